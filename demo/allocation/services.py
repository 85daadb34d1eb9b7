"""The service layer: one function per use case, each one unit of work.

Everything goes through :class:`~demo.allocation.repository.ProductRepository` inside a
:class:`toolkit.patterns.unit_of_work.UnitOfWork`; events recorded by the product are
dispatched by :data:`~demo.allocation.handlers.broker` after the commit.

Example::

    add_batch("b1", "LAMP", 100)
    allocate("order-1", "LAMP", 10)       # -> "b1"
    allocations("order-1")               # -> [{"sku": "LAMP", "batchref": "b1"}]
"""

from __future__ import annotations

from datetime import date
from typing import Any

import icontract

from demo.allocation import logic, models
from demo.allocation.exceptions import InvalidSku, NotAllocated, OutOfStockError
from demo.allocation.handlers import changes
from demo.allocation.repository import ProductRepository
from demo.allocation.stories import AllocateState, build_allocate_line
from toolkit.patterns.exceptions import NotFound
from toolkit.patterns.unit_of_work import UnitOfWork


@icontract.require(lambda qty: qty >= 0, "batch quantity must not be negative")
def add_batch(ref: str, sku: str, qty: int, eta: date | None = None) -> None:
    """Add a batch of ``sku`` (the product is created on its first batch)."""
    with UnitOfWork():
        products = ProductRepository(changes_handler=changes)
        product = products.get_or_create(sku)
        product.add_batch(logic.Batch(reference=ref, sku=sku, purchased_quantity=qty, eta=eta))
        products.save(product)


@icontract.require(lambda qty: qty > 0, "order line quantity must be positive")
def allocate(orderid: str, sku: str, qty: int) -> str:
    """Allocate the line and return the batch reference.

    Raises :class:`InvalidSku` for an unknown SKU and :class:`OutOfStockError` when no batch
    can take it (after ``OutOfStock`` was dispatched).
    """
    state = AllocateState(line=logic.OrderLine(orderid=orderid, sku=sku, qty=qty))
    with UnitOfWork():
        build_allocate_line()(state)
    if state.batchref is None:
        raise OutOfStockError(sku)
    return state.batchref


def deallocate(orderid: str, sku: str) -> str:
    """Release the line of ``orderid`` for ``sku``; return the batch it had."""
    with UnitOfWork():
        products = ProductRepository(changes_handler=changes)
        try:
            product = products.get(sku)
        except NotFound:
            raise InvalidSku(sku) from None
        batchref = product.deallocate(orderid)
        if batchref is None:
            raise NotAllocated(orderid, sku)
        products.save(product)
    return batchref


@icontract.require(lambda qty: qty >= 0, "batch quantity must not be negative")
def change_batch_quantity(ref: str, qty: int) -> None:
    """Set the batch's quantity; lines that no longer fit are reallocated after commit."""
    with UnitOfWork():
        products = ProductRepository(changes_handler=changes)
        product = products.get_by_batchref(ref)
        product.change_batch_quantity(ref, qty)
        products.save(product)


def allocations(orderid: str) -> list[dict[str, Any]]:
    """The read model: ``[{"sku": ..., "batchref": ...}]`` of an order, with ``values()``."""
    rows = models.AllocationView.objects.filter(orderid=orderid).order_by("sku")
    return [dict(row) for row in rows.values("sku", "batchref")]
