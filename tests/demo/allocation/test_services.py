"""The book's service-layer and handler tests (chapters 4-10), on SQLite and PostgreSQL.

Events are dispatched after commit; ``captureOnCommitCallbacks(execute=True)`` runs them at
the end of the block, as the real commit would (callbacks registered by callbacks included).
"""

from __future__ import annotations

from datetime import date

import icontract
from django.core import mail
from django.test import TestCase

from demo.allocation import models, services
from demo.allocation.exceptions import InvalidSku, NotAllocated, OutOfStockError
from demo.allocation.handlers import OUT_OF_STOCK_RECIPIENT


class AddBatchTests(TestCase):
    def test_for_new_product(self) -> None:
        services.add_batch("b1", "CRUNCHY-ARMCHAIR", 100)
        product = models.Product.objects.get(sku="CRUNCHY-ARMCHAIR")
        assert list(product.batches.values_list("reference", "purchased_quantity")) == [("b1", 100)]

    def test_for_existing_product(self) -> None:
        services.add_batch("b1", "GARISH-RUG", 100)
        services.add_batch("b2", "GARISH-RUG", 99, date(2026, 5, 1))
        assert sorted(models.Batch.objects.values_list("reference", flat=True)) == ["b1", "b2"]
        assert models.Product.objects.get(sku="GARISH-RUG").version_number == 2

    def test_negative_quantity_violates_the_contract_and_writes_nothing(self) -> None:
        with self.assertRaises(icontract.ViolationError) as ctx:
            services.add_batch("b1", "RUG", -1)
        assert (
            str(ctx.exception).splitlines()[1] == "batch quantity must not be negative: qty >= 0:"
        )
        assert not models.Product.objects.exists()


class AllocateTests(TestCase):
    def test_allocates(self) -> None:
        services.add_batch("batch1", "COMPLICATED-LAMP", 100)
        with self.captureOnCommitCallbacks(execute=True):
            result = services.allocate("o1", "COMPLICATED-LAMP", 10)
        assert result == "batch1"
        assert list(
            models.Allocation.objects.values_list("batch__reference", "orderid", "qty")
        ) == [("batch1", "o1", 10)]

    def test_allocating_reduces_available_quantity_in_storage(self) -> None:
        services.add_batch("batch1", "LAMP", 20)
        services.allocate("o1", "LAMP", 15)
        with self.assertRaises(OutOfStockError):
            services.allocate("o2", "LAMP", 6)
        assert services.allocate("o3", "LAMP", 5) == "batch1"

    def test_errors_for_invalid_sku(self) -> None:
        services.add_batch("b1", "AREALSKU", 100)
        with self.assertRaises(InvalidSku) as ctx:
            services.allocate("o1", "NONEXISTENTSKU", 10)
        assert ctx.exception.args == ("Invalid sku 'NONEXISTENTSKU': no product has this SKU",)

    def test_commits(self) -> None:
        services.add_batch("b1", "OMINOUS-MIRROR", 100)
        services.allocate("o1", "OMINOUS-MIRROR", 10)
        assert models.Product.objects.get(sku="OMINOUS-MIRROR").version_number == 2

    def test_prefers_warehouse_stock_in_storage(self) -> None:
        services.add_batch("shipment", "CLOCK", 100, date(2026, 6, 1))
        services.add_batch("warehouse", "CLOCK", 100)
        assert services.allocate("o1", "CLOCK", 10) == "warehouse"

    def test_sends_email_and_raises_on_out_of_stock(self) -> None:
        services.add_batch("b1", "POPULAR-CURTAINS", 9)
        with self.captureOnCommitCallbacks(execute=True), self.assertRaises(OutOfStockError) as ctx:
            services.allocate("o1", "POPULAR-CURTAINS", 10)
        assert ctx.exception.args == ("Out of stock for sku 'POPULAR-CURTAINS'",)
        assert [(m.subject, m.to) for m in mail.outbox] == [
            ("Out of stock: POPULAR-CURTAINS", [OUT_OF_STOCK_RECIPIENT])
        ]
        assert models.Product.objects.get(sku="POPULAR-CURTAINS").version_number == 1

    def test_zero_quantity_violates_the_service_contract(self) -> None:
        services.add_batch("b1", "LAMP", 9)
        with self.assertRaises(icontract.ViolationError) as ctx:
            services.allocate("o1", "LAMP", 0)
        assert (
            str(ctx.exception).splitlines()[1] == "order line quantity must be positive: qty > 0:"
        )
        assert not models.Allocation.objects.exists()

    def test_events_are_dropped_when_the_unit_of_work_rolls_back(self) -> None:
        from demo.allocation.handlers import changes
        from demo.allocation.logic import OrderLine
        from demo.allocation.repository import ProductRepository
        from toolkit.patterns.unit_of_work import UnitOfWork

        services.add_batch("b1", "LAMP", 10)
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            try:
                with UnitOfWork():
                    products = ProductRepository(changes_handler=changes)
                    product = products.get("LAMP")
                    product.allocate(OrderLine(orderid="o1", sku="LAMP", qty=1))
                    products.save(product)
                    raise RuntimeError("abort")
            except RuntimeError:
                pass
        assert callbacks == []
        assert services.allocations("o1") == []
        assert not models.Allocation.objects.exists()


class DeallocateTests(TestCase):
    def test_deallocate_releases_the_line_and_updates_the_read_model(self) -> None:
        services.add_batch("b1", "LAMP", 10)
        with self.captureOnCommitCallbacks(execute=True):
            services.allocate("o1", "LAMP", 4)
        with self.captureOnCommitCallbacks(execute=True):
            assert services.deallocate("o1", "LAMP") == "b1"
        assert services.allocations("o1") == []
        assert not models.Allocation.objects.exists()

    def test_deallocate_an_unallocated_line_raises(self) -> None:
        services.add_batch("b1", "LAMP", 10)
        with self.assertRaises(NotAllocated) as ctx:
            services.deallocate("o9", "LAMP")
        assert ctx.exception.args == ("Order 'o9' has no allocated line of sku 'LAMP'",)


class ChangeBatchQuantityTests(TestCase):
    def test_changes_available_quantity(self) -> None:
        services.add_batch("batch1", "ADORABLE-SETTEE", 100)
        services.change_batch_quantity("batch1", 50)
        assert models.Batch.objects.get(reference="batch1").purchased_quantity == 50

    def test_reallocates_if_necessary(self) -> None:
        services.add_batch("batch1", "INDIFFERENT-TABLE", 50)
        services.add_batch("batch2", "INDIFFERENT-TABLE", 50, date(2026, 6, 1))
        with self.captureOnCommitCallbacks(execute=True):
            services.allocate("order1", "INDIFFERENT-TABLE", 20)
            services.allocate("order2", "INDIFFERENT-TABLE", 20)
        with self.captureOnCommitCallbacks(execute=True):
            services.change_batch_quantity("batch1", 25)
        rows = dict(models.Allocation.objects.values_list("orderid", "batch__reference"))
        assert rows == {"order1": "batch1", "order2": "batch2"}
        assert services.allocations("order2") == [
            {"sku": "INDIFFERENT-TABLE", "batchref": "batch2"}
        ]


class AllocationsViewTests(TestCase):
    def test_allocations_view(self) -> None:
        services.add_batch("sku1batch", "sku1", 50)
        services.add_batch("sku2batch", "sku2", 50, date(2026, 1, 1))
        with self.captureOnCommitCallbacks(execute=True):
            services.allocate("order1", "sku1", 20)
            services.allocate("order1", "sku2", 20)
            services.allocate("otherorder", "sku1", 30)
            services.allocate("otherorder", "sku2", 10)
        with self.assertNumQueries(1):
            rows = services.allocations("order1")
        assert rows == [
            {"sku": "sku1", "batchref": "sku1batch"},
            {"sku": "sku2", "batchref": "sku2batch"},
        ]
