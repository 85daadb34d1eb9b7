"""``manage.py seed_replication``: demo masters, replicated replicas, and one dead letter."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from demo.replication.models import Customer, Product

PRODUCTS = [
    ("LAMP-01", "Desk lamp", "39.90", 12),
    ("CHAIR-02", "Office chair", "189.00", 4),
    ("MUG-03", "Coffee mug", "7.50", 140),
    ("PEN-04", "Fountain pen", "24.00", 35),
]
CUSTOMERS = [
    ("Ada", "Lovelace", "ada@example.org", "gold"),
    ("Alan", "Turing", "alan@example.org", "standard"),
]


class Command(BaseCommand):
    help = (
        "Create demo Product and Customer masters (replicated to their replicas through the "
        "configured transport), update a few, and store one expired message as a dead letter."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-dead-letter", action="store_true", help="Do not add the dead-letter example."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="seed only when there are no products yet (what seed_demo does)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.consumer import consume_body

        if options["if_empty"] and Product.objects.exists():
            self.stdout.write("The replication demo has data already: nothing seeded (--if-empty).")
            return
        with transaction.atomic():
            products = [
                Product.objects.update_or_create(
                    sku=sku, defaults={"name": name, "price": Decimal(price), "stock": stock}
                )[0]
                for sku, name, price, stock in PRODUCTS
            ]
            for first, last, email, tier in CUSTOMERS:
                Customer.objects.update_or_create(
                    email=email, defaults={"first_name": first, "last_name": last, "tier": tier}
                )
        with transaction.atomic():
            Product.cqrs.bulk_update(Product.objects.filter(sku__in=["MUG-03", "PEN-04"]), stock=99)
        if not options["no_dead_letter"]:
            late = products[0].to_cqrs_dict()
            consume_body(
                json.dumps(
                    {
                        "signal_type": "SAVE",
                        "cqrs_id": "product",
                        "instance_pk": late["id"],
                        "instance_data": late,
                        "expires": "2000-01-01T00:00:00+00:00",
                    }
                )
            )
        self.stdout.write(
            f"Seeded {len(PRODUCTS)} products and {len(CUSTOMERS)} customers"
            + ("" if options["no_dead_letter"] else " and 1 dead letter")
            + "."
        )
