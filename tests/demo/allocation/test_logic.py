"""The book's domain tests (chapters 1, 7, 8, 9): batches and the Product aggregate."""

from __future__ import annotations

from datetime import date, timedelta

import icontract
import pytest

from demo.allocation.logic import (
    Allocated,
    Batch,
    Deallocated,
    OrderLine,
    OutOfStock,
    Product,
)
from toolkit.ddd import ImmutableValueObject

today = date(2026, 1, 1)
tomorrow = today + timedelta(days=1)
later = tomorrow + timedelta(days=10)


def make_batch_and_line(sku: str, batch_qty: int, line_qty: int) -> tuple[Batch, OrderLine]:
    return (
        Batch(reference="batch-001", sku=sku, purchased_quantity=batch_qty, eta=today),
        OrderLine(orderid="order-123", sku=sku, qty=line_qty),
    )


def test_allocating_to_a_batch_reduces_the_available_quantity() -> None:
    batch, line = make_batch_and_line("SMALL-TABLE", 20, 2)
    batch.allocate(line)
    assert batch.available_quantity == 18


def test_can_allocate_if_available_greater_than_required() -> None:
    batch, line = make_batch_and_line("ELEGANT-LAMP", 20, 2)
    assert batch.can_allocate(line)


def test_cannot_allocate_if_available_smaller_than_required() -> None:
    batch, line = make_batch_and_line("ELEGANT-LAMP", 2, 20)
    assert batch.can_allocate(line) is False


def test_can_allocate_if_available_equal_to_required() -> None:
    batch, line = make_batch_and_line("ELEGANT-LAMP", 2, 2)
    assert batch.can_allocate(line)


def test_cannot_allocate_if_skus_do_not_match() -> None:
    batch = Batch(reference="batch-001", sku="UNCOMFORTABLE-CHAIR", purchased_quantity=100)
    different_sku_line = OrderLine(orderid="order-123", sku="EXPENSIVE-TOASTER", qty=10)
    assert batch.can_allocate(different_sku_line) is False


def test_batch_allocate_of_a_line_that_does_not_fit_violates_its_contract() -> None:
    batch, line = make_batch_and_line("ELEGANT-LAMP", 2, 20)
    with pytest.raises(icontract.ViolationError) as excinfo:
        batch.allocate(line)
    assert "batch must have the SKU and enough stock for the line" in str(excinfo.value)
    assert batch.allocations == []


def test_allocation_is_idempotent() -> None:
    batch, line = make_batch_and_line("ANGULAR-DESK", 20, 2)
    batch.allocate(line)
    batch.allocate(line)
    assert batch.available_quantity == 18


def test_deallocate_releases_an_allocated_line_only() -> None:
    batch, line = make_batch_and_line("EXPENSIVE-FOOTSTOOL", 20, 2)
    batch.deallocate(line)
    assert batch.available_quantity == 20
    batch.allocate(line)
    batch.deallocate(line)
    assert batch.available_quantity == 20


def test_order_line_is_a_value_object() -> None:
    line = OrderLine(orderid="o1", sku="LAMP", qty=1)
    assert line == OrderLine(orderid="o1", sku="LAMP", qty=1)
    assert len({line, OrderLine(orderid="o1", sku="LAMP", qty=1)}) == 1
    with pytest.raises(ImmutableValueObject) as excinfo:
        line.qty = 5  # type: ignore[misc]
    assert excinfo.value.args == (
        "Cannot change attribute 'qty' of OrderLine: value objects are immutable; build a "
        "new one with dataclasses.replace() or model_copy()",
    )


def test_batches_are_entities_equal_by_reference() -> None:
    assert Batch(reference="b1", sku="A", purchased_quantity=1) == Batch(
        reference="b1", sku="A", purchased_quantity=99
    )


def test_prefers_warehouse_batches_to_shipments() -> None:
    in_stock = Batch(reference="in-stock-batch", sku="RETRO-CLOCK", purchased_quantity=100)
    shipment = Batch(
        reference="shipment-batch", sku="RETRO-CLOCK", purchased_quantity=100, eta=tomorrow
    )
    product = Product(sku="RETRO-CLOCK", batches=[shipment, in_stock])
    line = OrderLine(orderid="oref", sku="RETRO-CLOCK", qty=10)
    product.allocate(line)
    assert in_stock.available_quantity == 90
    assert shipment.available_quantity == 100


def test_prefers_earlier_batches() -> None:
    earliest = Batch(
        reference="speedy-batch", sku="MINIMALIST-SPOON", purchased_quantity=100, eta=today
    )
    medium = Batch(
        reference="normal-batch", sku="MINIMALIST-SPOON", purchased_quantity=100, eta=tomorrow
    )
    latest = Batch(
        reference="slow-batch", sku="MINIMALIST-SPOON", purchased_quantity=100, eta=later
    )
    product = Product(sku="MINIMALIST-SPOON", batches=[medium, earliest, latest])
    product.allocate(OrderLine(orderid="order1", sku="MINIMALIST-SPOON", qty=10))
    assert earliest.available_quantity == 90
    assert medium.available_quantity == 100
    assert latest.available_quantity == 100


def test_returns_allocated_batch_ref() -> None:
    in_stock = Batch(reference="in-stock-batch-ref", sku="HIGHBROW-POSTER", purchased_quantity=100)
    shipment = Batch(
        reference="shipment-batch-ref", sku="HIGHBROW-POSTER", purchased_quantity=100, eta=tomorrow
    )
    product = Product(sku="HIGHBROW-POSTER", batches=[in_stock, shipment])
    allocation = product.allocate(OrderLine(orderid="oref", sku="HIGHBROW-POSTER", qty=10))
    assert allocation == in_stock.reference


def test_outputs_allocated_event() -> None:
    batch = Batch(reference="batchref", sku="RETRO-LAMPSHADE", purchased_quantity=100)
    product = Product(sku="RETRO-LAMPSHADE", batches=[batch])
    product.allocate(OrderLine(orderid="oref", sku="RETRO-LAMPSHADE", qty=10))
    assert product.pending_events[-1] == Allocated(
        orderid="oref", sku="RETRO-LAMPSHADE", qty=10, batchref="batchref"
    )


def test_records_out_of_stock_event_if_cannot_allocate() -> None:
    batch = Batch(reference="batch1", sku="SMALL-FORK", purchased_quantity=10)
    product = Product(sku="SMALL-FORK", batches=[batch])
    product.allocate(OrderLine(orderid="order1", sku="SMALL-FORK", qty=10))
    allocation = product.allocate(OrderLine(orderid="order2", sku="SMALL-FORK", qty=1))
    assert product.pending_events[-1] == OutOfStock(sku="SMALL-FORK")
    assert allocation is None


def test_increments_version_number() -> None:
    product = Product(
        sku="SCANDI-PEN",
        batches=[Batch(reference="b1", sku="SCANDI-PEN", purchased_quantity=100)],
        version_number=7,
    )
    product.allocate(OrderLine(orderid="oref", sku="SCANDI-PEN", qty=10))
    assert product.version_number == 8


def test_change_batch_quantity_deallocates_lines_that_no_longer_fit() -> None:
    batch = Batch(reference="b1", sku="SOFA", purchased_quantity=50)
    product = Product(sku="SOFA", batches=[batch])
    product.allocate(OrderLine(orderid="o1", sku="SOFA", qty=20))
    product.allocate(OrderLine(orderid="o2", sku="SOFA", qty=20))
    product.collect_events()
    product.change_batch_quantity("b1", 25)
    assert batch.available_quantity == 5
    assert product.collect_events() == [
        Deallocated(orderid="o2", sku="SOFA", qty=20, batchref="b1", reallocate=True)
    ]


def test_allocate_with_a_line_of_another_sku_violates_the_contract() -> None:
    product = Product(sku="LAMP", batches=[Batch(reference="b1", sku="LAMP", purchased_quantity=5)])
    with pytest.raises(icontract.ViolationError) as excinfo:
        product.allocate(OrderLine(orderid="o1", sku="CHAIR", qty=1))
    assert str(excinfo.value).splitlines()[1] == (
        "order line SKU must match the product SKU: line.sku == self.sku:"
    )
    assert product.pending_events == []


def test_allocate_a_zero_quantity_violates_the_contract() -> None:
    product = Product(sku="LAMP", batches=[Batch(reference="b1", sku="LAMP", purchased_quantity=5)])
    with pytest.raises(icontract.ViolationError) as excinfo:
        product.allocate(OrderLine(orderid="o1", sku="LAMP", qty=0))
    assert (
        str(excinfo.value).splitlines()[1] == "order line quantity must be positive: line.qty > 0:"
    )


def test_negative_batch_quantity_violates_the_contract() -> None:
    product = Product(sku="LAMP", batches=[Batch(reference="b1", sku="LAMP", purchased_quantity=5)])
    with pytest.raises(icontract.ViolationError) as excinfo:
        product.change_batch_quantity("b1", -1)
    assert str(excinfo.value).splitlines()[1] == "batch quantity must not be negative: qty >= 0:"
    assert product.batch("b1").purchased_quantity == 5


def test_product_invariant_rejects_a_batch_of_another_sku() -> None:
    with pytest.raises(icontract.ViolationError) as excinfo:
        Product(sku="LAMP", batches=[Batch(reference="b1", sku="CHAIR", purchased_quantity=5)])
    assert "every batch of a product has the product's SKU" in str(excinfo.value)
