"""The allocation domain of Cosmic Python, as the book's final chapters have it: pure Python.

The book's constructors and names, positionally: ``OrderLine(orderid, sku, qty)``,
``Batch(ref, sku, qty, eta)``, ``Product(sku, batches, version_number=0)``. ``Product`` is the
aggregate (one per SKU) and records the book's events in ``product.events``; the unit of work
collects them from there. It is a face of the toolkit's aggregate core
(:class:`toolkit.ddd.Aggregate`: identity by SKU, the pending-events list) with the book's
positional constructor; ``Batch`` likewise is a :class:`toolkit.ddd.Entity` equal by reference.

No ORM and no I/O here: ``models.py`` stores these objects, ``repository.py`` maps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import icontract

from demo.allocation import events
from toolkit.ddd import Aggregate, Entity


@dataclass(frozen=True)
class OrderLine:
    """A quantity of one SKU for one order: a value (equal by value, hashable, immutable)."""

    orderid: str
    sku: str
    qty: int


class Batch(Entity):
    """Stock of one SKU: in the warehouse (``eta`` None) or in a shipment arriving on ``eta``.

    Equal (and hashed) by ``reference``; ``sorted(batches)`` puts warehouse stock first, then
    shipments by arrival date (the book's ``__gt__``).
    """

    identity = "reference"

    reference: str
    sku: str
    eta: date | None

    def __init__(self, ref: str, sku: str, qty: int, eta: date | None) -> None:
        self.reference = ref
        self.sku = sku
        self.eta = eta
        self._purchased_quantity = qty
        # An insertion-ordered set: deallocate_one() releases the latest line (the book's
        # set pops an arbitrary one).
        self._allocations: dict[OrderLine, None] = {}

    def __repr__(self) -> str:
        return f"<Batch {self.reference}>"

    def __gt__(self, other: Batch) -> bool:
        if self.eta is None:
            return False
        if other.eta is None:
            return True
        return self.eta > other.eta

    def allocate(self, line: OrderLine) -> None:
        """Take ``line`` if it fits (same SKU, enough stock); allocating it twice is a no-op."""
        if self.can_allocate(line):
            self._allocations[line] = None

    def deallocate(self, line: OrderLine) -> None:
        """Release ``line``; a line that is not allocated here is ignored."""
        self._allocations.pop(line, None)

    def deallocate_one(self) -> OrderLine:
        """Release the most recently allocated line and return it."""
        line, _ = self._allocations.popitem()
        return line

    @property
    def purchased_quantity(self) -> int:
        """Units bought."""
        return self._purchased_quantity

    @property
    def allocations(self) -> tuple[OrderLine, ...]:
        """The allocated lines, oldest first."""
        return tuple(self._allocations)

    @property
    def allocated_quantity(self) -> int:
        """Units taken by the allocated lines."""
        return sum(line.qty for line in self._allocations)

    @property
    def available_quantity(self) -> int:
        """Units still free."""
        return self._purchased_quantity - self.allocated_quantity

    def can_allocate(self, line: OrderLine) -> bool:
        """Same SKU and enough free units."""
        return self.sku == line.sku and self.available_quantity >= line.qty


class Product(Aggregate):
    """The aggregate: every batch of one SKU, with a version number for optimistic locking."""

    identity = "sku"

    sku: str
    batches: list[Batch]
    version_number: int

    def __init__(self, sku: str, batches: list[Batch], version_number: int = 0) -> None:
        self.sku = sku
        self.batches = batches
        self.version_number = version_number
        self._events: list[events.Event] = []  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Product {self.sku} v{self.version_number}>"

    @property
    def events(self) -> list[events.Event]:
        """The recorded events not collected yet: the live list the unit of work drains."""
        return self._events

    def allocate(self, line: OrderLine) -> str | None:
        """Allocate ``line`` to the preferred batch and return its reference.

        Warehouse stock is preferred to shipments, earlier shipments to later ones. Records
        :class:`~demo.allocation.events.Allocated`; when no batch can take the line, records
        :class:`~demo.allocation.events.OutOfStock` and returns ``None`` (no exception: the
        message bus hands the event to its handler, which tells the buyers).
        """
        try:
            batch = next(b for b in sorted(self.batches) if b.can_allocate(line))
        except StopIteration:
            self.events.append(events.OutOfStock(line.sku))
            return None
        batch.allocate(line)
        self.version_number += 1
        self.events.append(
            events.Allocated(
                orderid=line.orderid, sku=line.sku, qty=line.qty, batchref=batch.reference
            )
        )
        return batch.reference

    @icontract.require(lambda qty: qty >= 0, "batch quantity must not be negative")
    def change_batch_quantity(self, ref: str, qty: int) -> None:
        """Set the batch's quantity; lines that no longer fit are deallocated (``Deallocated``)
        for the message bus to allocate again."""
        batch = next(b for b in self.batches if b.reference == ref)
        batch._purchased_quantity = qty
        while batch.available_quantity < 0:
            line = batch.deallocate_one()
            self.events.append(events.Deallocated(line.orderid, line.sku, line.qty))
