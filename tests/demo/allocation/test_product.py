"""The book's ``test_product.py``: the aggregate picks a batch and records its events."""

from __future__ import annotations

from datetime import date, timedelta

import icontract
import pytest

from demo.allocation import events
from demo.allocation.model import Batch, OrderLine, Product

today = date.today()
tomorrow = today + timedelta(days=1)
later = tomorrow + timedelta(days=10)


def test_prefers_warehouse_batches_to_shipments() -> None:
    in_stock_batch = Batch("in-stock-batch", "RETRO-CLOCK", 100, eta=None)
    shipment_batch = Batch("shipment-batch", "RETRO-CLOCK", 100, eta=tomorrow)
    product = Product(sku="RETRO-CLOCK", batches=[in_stock_batch, shipment_batch])
    line = OrderLine("oref", "RETRO-CLOCK", 10)
    product.allocate(line)
    assert in_stock_batch.available_quantity == 90
    assert shipment_batch.available_quantity == 100


def test_prefers_earlier_batches() -> None:
    earliest = Batch("speedy-batch", "MINIMALIST-SPOON", 100, eta=today)
    medium = Batch("normal-batch", "MINIMALIST-SPOON", 100, eta=tomorrow)
    latest = Batch("slow-batch", "MINIMALIST-SPOON", 100, eta=later)
    product = Product(sku="MINIMALIST-SPOON", batches=[medium, earliest, latest])
    line = OrderLine("order1", "MINIMALIST-SPOON", 10)
    product.allocate(line)
    assert earliest.available_quantity == 90
    assert medium.available_quantity == 100
    assert latest.available_quantity == 100


def test_returns_allocated_batch_ref() -> None:
    in_stock_batch = Batch("in-stock-batch-ref", "HIGHBROW-POSTER", 100, eta=None)
    shipment_batch = Batch("shipment-batch-ref", "HIGHBROW-POSTER", 100, eta=tomorrow)
    line = OrderLine("oref", "HIGHBROW-POSTER", 10)
    product = Product(sku="HIGHBROW-POSTER", batches=[in_stock_batch, shipment_batch])
    allocation = product.allocate(line)
    assert allocation == in_stock_batch.reference


def test_outputs_allocated_event() -> None:
    batch = Batch("batchref", "RETRO-LAMPSHADE", 100, eta=None)
    line = OrderLine("oref", "RETRO-LAMPSHADE", 10)
    product = Product(sku="RETRO-LAMPSHADE", batches=[batch])
    product.allocate(line)
    expected = events.Allocated(
        orderid="oref", sku="RETRO-LAMPSHADE", qty=10, batchref=batch.reference
    )
    assert product.events[-1] == expected


def test_records_out_of_stock_event_if_cannot_allocate() -> None:
    batch = Batch("batch1", "SMALL-FORK", 10, eta=today)
    product = Product(sku="SMALL-FORK", batches=[batch])
    product.allocate(OrderLine("order1", "SMALL-FORK", 10))

    allocation = product.allocate(OrderLine("order2", "SMALL-FORK", 1))
    assert product.events[-1] == events.OutOfStock(sku="SMALL-FORK")
    assert allocation is None


def test_increments_version_number() -> None:
    line = OrderLine("oref", "SCANDI-PEN", 10)
    product = Product(sku="SCANDI-PEN", batches=[Batch("b1", "SCANDI-PEN", 100, eta=None)])
    product.version_number = 7
    product.allocate(line)
    assert product.version_number == 8


def test_change_batch_quantity_deallocates_what_no_longer_fits() -> None:
    batch = Batch("b1", "LAMP", 20, eta=None)
    product = Product("LAMP", [batch])
    product.allocate(OrderLine("o1", "LAMP", 10))
    product.allocate(OrderLine("o2", "LAMP", 10))
    product.events.clear()
    product.change_batch_quantity("b1", 15)
    assert batch.available_quantity == 5
    assert product.events == [events.Deallocated("o2", "LAMP", 10)]


def test_negative_batch_quantity_is_refused_and_changes_nothing() -> None:
    batch = Batch("b1", "LAMP", 20, eta=None)
    product = Product("LAMP", [batch])
    with pytest.raises(icontract.ViolationError) as excinfo:
        product.change_batch_quantity("b1", -1)
    assert str(excinfo.value).splitlines()[1] == "batch quantity must not be negative: qty >= 0:"
    assert (batch.purchased_quantity, product.events) == (20, [])


def test_product_is_the_toolkit_aggregate_with_the_books_constructor() -> None:
    from toolkit.ddd import Aggregate

    product = Product("LAMP", [], 3)
    assert isinstance(product, Aggregate)
    assert (product.sku, product.batches, product.version_number) == ("LAMP", [], 3)
    assert product == Product("LAMP", [Batch("b", "LAMP", 1, None)])  # identity: the SKU
    product.allocate(OrderLine("o", "LAMP", 1))
    assert product.pending_events == product.events == [events.OutOfStock("LAMP")]
    assert product.collect_events() == [events.OutOfStock("LAMP")]
    assert product.events == []
