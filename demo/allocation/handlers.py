"""Event handlers of the allocation domain, on one :class:`~toolkit.ddd.EventBroker`.

They run after the unit of work that recorded the event has committed (the changes handler
waits for the commit), in registration order:

* :class:`Allocated` → add the line to the read model;
* :class:`Deallocated` → remove it from the read model, then (when ``reallocate``) allocate
  the line again in a new unit of work;
* :class:`OutOfStock` → e-mail the buyers (Django's mail API; ``mail.outbox`` in tests).
"""

from __future__ import annotations

from django.core.mail import send_mail

from demo.allocation import models
from demo.allocation.logic import Allocated, Deallocated, OutOfStock
from toolkit.ddd import ChangesHandler, EventBroker

broker = EventBroker()
changes = ChangesHandler(broker)

OUT_OF_STOCK_RECIPIENT = "stock@example.com"


@broker.handle(Allocated)
def add_allocation_to_read_model(event: Allocated) -> None:
    """Insert the allocation into the ``AllocationView`` read model."""
    models.AllocationView.objects.update_or_create(
        orderid=event.orderid, sku=event.sku, defaults={"batchref": event.batchref}
    )


@broker.handle(Deallocated)
def remove_allocation_from_read_model(event: Deallocated) -> None:
    """Delete the allocation from the read model."""
    models.AllocationView.objects.filter(orderid=event.orderid, sku=event.sku).delete()


@broker.handle(Deallocated)
def reallocate(event: Deallocated) -> None:
    """Allocate a line that lost its batch to another one (when ``event.reallocate``)."""
    if not event.reallocate:
        return
    from demo.allocation import services

    services.allocate(event.orderid, event.sku, event.qty)


@broker.handle(OutOfStock)
def send_out_of_stock_notification(event: OutOfStock) -> None:
    """Tell the buyers that a SKU ran out."""
    send_mail(
        subject=f"Out of stock: {event.sku}",
        message=f"Out of stock for {event.sku}",
        from_email="allocations@example.com",
        recipient_list=[OUT_OF_STOCK_RECIPIENT],
    )
