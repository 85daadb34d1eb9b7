"""``manage.py seed_allocation`` fills the demo through the message bus."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from demo.allocation import bootstrap, commands, models
from demo.allocation.views import allocations


def read_model(orderid: str) -> list[dict[str, str]]:
    return allocations(orderid, bootstrap.bootstrap().uow)


class SeedAllocationTests(TestCase):
    def test_seeds_batches_allocations_and_the_read_model(self) -> None:
        out = StringIO()
        with self.captureOnCommitCallbacks(execute=True):
            call_command("seed_allocation", stdout=out)
        assert out.getvalue().splitlines() == [
            "allocation: Out of stock for UNCOMFORTABLE-CHAIR",
            f"allocation: 5 batches, 4 order lines allocated (as of {timezone.localdate()})",
        ]
        assert models.Batch.objects.count() == 5
        assert read_model("order-002") == [
            {"sku": "ELEGANT-LAMP", "batchref": "batch-lamp-warehouse"},
            {"sku": "UNCOMFORTABLE-CHAIR", "batchref": "batch-chair-warehouse"},
        ]

    def test_if_empty_does_nothing_when_products_exist(self) -> None:
        bootstrap.bootstrap().handle(commands.CreateBatch("b1", "LAMP", 1))
        out = StringIO()
        call_command("seed_allocation", "--if-empty", stdout=out)
        assert out.getvalue() == "allocation: products exist, nothing seeded\n"
        assert models.Batch.objects.count() == 1

    def test_seed_demo_seeds_the_allocation_domain_once(self) -> None:
        from toolkit.patterns.plugin import reset_plugin_registry

        self.addCleanup(reset_plugin_registry)  # seed_demo activates the demo's plugins
        out = StringIO()
        args = ("--orders", "0", "--events", "0", "--no-progress")
        with self.captureOnCommitCallbacks(execute=True):
            call_command("seed_demo", *args, stdout=out, stderr=StringIO())
        assert f"allocation: 5 batches, 4 order lines allocated (as of {timezone.localdate()})" in (
            out.getvalue()
        )
        assert read_model("order-001") == [
            {"sku": "ELEGANT-LAMP", "batchref": "batch-lamp-warehouse"}
        ]
        out = StringIO()
        call_command("seed_demo", *args, stdout=out, stderr=StringIO())
        assert "allocation: products exist, nothing seeded" in out.getvalue()
        assert models.Batch.objects.count() == 5
