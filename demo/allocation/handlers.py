"""The book's handlers: one per command, a list per event, dependencies as arguments.

Each handler names what it needs (``uow``, ``notifications``, ``publish``) as a parameter;
``bootstrap.bootstrap`` injects them. Command handlers raise (``InvalidSku``); ``allocate``
itself does not: a line no batch can take makes the product record ``OutOfStock``, which
``send_out_of_stock_notification`` handles. The read model (``AllocationView``, the book's
``allocations_view``) is kept by the ``Allocated`` / ``Deallocated`` handlers with the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from demo.allocation import commands, events, model, models
from demo.allocation.exceptions import InvalidSku, UnknownBatch
from demo.allocation.notifications import AbstractNotifications
from demo.allocation.stories import AllocateLine, AllocateState
from demo.allocation.unit_of_work import AbstractUnitOfWork

__all__ = [
    "COMMAND_HANDLERS",
    "EVENT_HANDLERS",
    "OUT_OF_STOCK_RECIPIENT",
    "InvalidSku",
    "add_allocation_to_read_model",
    "add_batch",
    "allocate",
    "change_batch_quantity",
    "publish_allocated_event",
    "reallocate",
    "remove_allocation_from_read_model",
    "send_out_of_stock_notification",
]

#: Who hears about a SKU running out (the book's address).
OUT_OF_STOCK_RECIPIENT = "stock@made.com"


def add_batch(cmd: commands.CreateBatch, uow: AbstractUnitOfWork) -> None:
    """Add a batch; the product is created on its first batch."""
    with uow:
        product = uow.products.get(sku=cmd.sku)
        if product is None:
            product = model.Product(cmd.sku, batches=[])
            uow.products.add(product)
        product.batches.append(model.Batch(cmd.ref, cmd.sku, cmd.qty, cmd.eta))
        uow.commit()


def allocate(cmd: commands.Allocate, uow: AbstractUnitOfWork) -> None:
    """Allocate the line (the ``AllocateLine`` story); ``InvalidSku`` for an unknown SKU."""
    line = model.OrderLine(cmd.orderid, cmd.sku, cmd.qty)
    with uow:
        AllocateLine(uow=uow)(AllocateState(line=line))


def reallocate(event: events.Deallocated, uow: AbstractUnitOfWork) -> None:
    """Allocate a line that lost its batch again."""
    allocate(commands.Allocate(**asdict(event)), uow=uow)


def change_batch_quantity(cmd: commands.ChangeBatchQuantity, uow: AbstractUnitOfWork) -> None:
    """Set a batch's quantity; lines that no longer fit are deallocated (and reallocated)."""
    with uow:
        product = uow.products.get_by_batchref(batchref=cmd.ref)
        if product is None:
            raise UnknownBatch(cmd.ref)
        product.change_batch_quantity(ref=cmd.ref, qty=cmd.qty)
        uow.commit()


def send_out_of_stock_notification(
    event: events.OutOfStock, notifications: AbstractNotifications
) -> None:
    """Tell the buyers that a SKU ran out."""
    notifications.send(OUT_OF_STOCK_RECIPIENT, f"Out of stock for {event.sku}")


def publish_allocated_event(event: events.Allocated, publish: Callable[[str, Any], Any]) -> None:
    """Tell the outside world (the book's ``line_allocated`` channel)."""
    publish("line_allocated", event)


def add_allocation_to_read_model(event: events.Allocated, uow: AbstractUnitOfWork) -> None:
    """Insert the allocation into the read model."""
    with uow:
        models.AllocationView.objects.update_or_create(
            orderid=event.orderid, sku=event.sku, defaults={"batchref": event.batchref}
        )
        uow.commit()


def remove_allocation_from_read_model(event: events.Deallocated, uow: AbstractUnitOfWork) -> None:
    """Delete the allocation from the read model."""
    with uow:
        models.AllocationView.objects.filter(orderid=event.orderid, sku=event.sku).delete()
        uow.commit()


EVENT_HANDLERS: dict[type[events.Event], list[Callable[..., Any]]] = {
    events.Allocated: [publish_allocated_event, add_allocation_to_read_model],
    events.Deallocated: [remove_allocation_from_read_model, reallocate],
    events.OutOfStock: [send_out_of_stock_notification],
}

COMMAND_HANDLERS: dict[type[commands.Command], Callable[..., Any]] = {
    commands.Allocate: allocate,
    commands.CreateBatch: add_batch,
    commands.ChangeBatchQuantity: change_batch_quantity,
}
