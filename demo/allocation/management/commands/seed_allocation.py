"""``manage.py seed_allocation``: sample products, batches and allocations for the demo.

Goes through the message bus (``bootstrap.bootstrap()``), so the read model, the events and the
story metrics are filled the way real use fills them. ``--if-empty`` does nothing when products
exist already.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from demo.allocation import bootstrap, commands, models
from demo.allocation.views import allocations

BATCHES = [
    # (reference, sku, quantity, days until arrival or None for warehouse stock)
    ("batch-lamp-warehouse", "ELEGANT-LAMP", 40, None),
    ("batch-lamp-ship", "ELEGANT-LAMP", 100, 14),
    ("batch-chair-warehouse", "UNCOMFORTABLE-CHAIR", 10, None),
    ("batch-table-ship-1", "SMALL-TABLE", 20, 7),
    ("batch-table-ship-2", "SMALL-TABLE", 50, 30),
]
ORDERS = [
    ("order-001", "ELEGANT-LAMP", 15),
    ("order-002", "ELEGANT-LAMP", 20),
    ("order-002", "UNCOMFORTABLE-CHAIR", 4),
    ("order-003", "SMALL-TABLE", 12),
    ("order-004", "UNCOMFORTABLE-CHAIR", 8),  # out of stock: 6 left
]


class Command(BaseCommand):
    help = "Create sample batches and allocations of the allocation demo."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if products exist already."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and models.Product.objects.exists():
            self.stdout.write("allocation: products exist, nothing seeded")
            return
        today = timezone.localdate()
        bus = bootstrap.bootstrap()
        for ref, sku, qty, days in BATCHES:
            if not models.Batch.objects.filter(reference=ref).exists():
                eta = None if days is None else today + timedelta(days=days)
                bus.handle(commands.CreateBatch(ref, sku, qty, eta))
        allocated = 0
        for orderid, sku, qty in ORDERS:
            bus.handle(commands.Allocate(orderid, sku, qty))
            if any(row["sku"] == sku for row in allocations(orderid, bus.uow)):
                allocated += 1
            else:  # the product recorded OutOfStock; its handler told the buyers
                self.stdout.write(f"allocation: Out of stock for {sku}")
        self.stdout.write(
            f"allocation: {len(BATCHES)} batches, {allocated} order lines allocated "
            f"(as of {date.isoformat(today)})"
        )
