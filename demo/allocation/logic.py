"""The allocation domain of Cosmic Python, as pure Python (no ORM, no I/O).

The "logic" module of the Cosmic Django post: the rules live here, the Django models in
``models.py`` only store them, the repository maps one to the other. Built with
``toolkit.ddd``: :class:`OrderLine` is a value object, :class:`Batch` an entity,
:class:`Product` the aggregate (one per SKU) that records :class:`Allocated`,
:class:`Deallocated` and :class:`OutOfStock`. Preconditions and invariants are ``icontract``
contracts; a violation raises ``icontract.ViolationError`` whose message starts with the
contract's description.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import icontract

from toolkit.ddd import Aggregate, AggregateEvent, Entity, ValueObject


class OrderLine(ValueObject):
    """A quantity of one SKU for one order."""

    orderid: str
    sku: str
    qty: int


class Allocated(AggregateEvent):
    """An order line was allocated to a batch."""

    orderid: str
    sku: str
    qty: int
    batchref: str


class Deallocated(AggregateEvent):
    """An order line lost its batch; ``reallocate`` says it must find another one."""

    orderid: str
    sku: str
    qty: int
    batchref: str
    reallocate: bool = False


class OutOfStock(AggregateEvent):
    """No batch of the SKU can take an order line."""

    sku: str


class Batch(Entity):
    """Stock of one SKU: in the warehouse (``eta`` None) or in a shipment arriving on ``eta``."""

    identity = "reference"

    reference: str
    sku: str
    purchased_quantity: int
    eta: date | None = None
    allocations: list[OrderLine] = dataclasses.field(default_factory=list)

    @property
    def allocated_quantity(self) -> int:
        """Units taken by the allocated lines."""
        return sum(line.qty for line in self.allocations)

    @property
    def available_quantity(self) -> int:
        """Units still free (negative after the purchased quantity was lowered)."""
        return self.purchased_quantity - self.allocated_quantity

    def can_allocate(self, line: OrderLine) -> bool:
        """Same SKU and enough free units."""
        return self.sku == line.sku and self.available_quantity >= line.qty

    @icontract.require(
        lambda self, line: self.can_allocate(line) or line in self.allocations,
        "batch must have the SKU and enough stock for the line",
    )
    def allocate(self, line: OrderLine) -> None:
        """Take ``line`` (allocating the same line twice is a no-op)."""
        if line not in self.allocations:
            self.allocations.append(line)

    def deallocate(self, line: OrderLine) -> None:
        """Release ``line``; a line that is not allocated here is ignored."""
        if line in self.allocations:
            self.allocations.remove(line)

    def deallocate_one(self) -> OrderLine:
        """Release the most recently allocated line and return it."""
        return self.allocations.pop()

    def priority(self) -> tuple[int, date]:
        """Sort key: warehouse stock first, then shipments by arrival date."""
        return (0, date.min) if self.eta is None else (1, self.eta)


def _deallocated(line: OrderLine, batch: Batch, *, reallocate: bool = False) -> Deallocated:
    """The event of ``line`` leaving ``batch``."""
    return Deallocated(
        orderid=line.orderid,
        sku=line.sku,
        qty=line.qty,
        batchref=batch.reference,
        reallocate=reallocate,
    )


@icontract.invariant(
    lambda self: all(b.sku == self.sku for b in self.batches),
    "every batch of a product has the product's SKU",
)
class Product(Aggregate):
    """The aggregate: every batch of one SKU, with a version number for optimistic locking."""

    identity = "sku"

    sku: str
    batches: list[Batch] = dataclasses.field(default_factory=list)
    version_number: int = 0

    def batch(self, reference: str) -> Batch:
        """The batch with ``reference``; ``KeyError`` names the references there are."""
        for batch in self.batches:
            if batch.reference == reference:
                return batch
        known = ", ".join(repr(b.reference) for b in self.batches) or "none"
        raise KeyError(f"Product {self.sku!r} has no batch {reference!r}; batches: {known}")

    @icontract.require(lambda self, batch: batch.sku == self.sku, "batch SKU must match product")
    def add_batch(self, batch: Batch) -> None:
        """Add a new batch of this product's SKU."""
        self.batches.append(batch)
        self.version_number += 1

    @icontract.require(lambda line: line.qty > 0, "order line quantity must be positive")
    @icontract.require(
        lambda self, line: line.sku == self.sku, "order line SKU must match the product SKU"
    )
    def allocate(self, line: OrderLine) -> str | None:
        """Allocate ``line`` to the preferred batch and return its reference.

        Warehouse stock is preferred to shipments, earlier shipments to later ones. Records
        :class:`Allocated`; when no batch can take the line, records :class:`OutOfStock` and
        returns ``None``.
        """
        for batch in sorted(self.batches, key=Batch.priority):
            if line in batch.allocations:
                return batch.reference
        for batch in sorted(self.batches, key=Batch.priority):
            if batch.can_allocate(line):
                batch.allocate(line)
                self.version_number += 1
                self.add_event(
                    Allocated(
                        orderid=line.orderid,
                        sku=line.sku,
                        qty=line.qty,
                        batchref=batch.reference,
                    )
                )
                return batch.reference
        self.add_event(OutOfStock(sku=line.sku))
        return None

    def deallocate(self, orderid: str) -> str | None:
        """Release the line of ``orderid``; return its batch reference (None if unallocated)."""
        for batch in self.batches:
            for line in batch.allocations:
                if line.orderid == orderid:
                    batch.deallocate(line)
                    self.version_number += 1
                    self.add_event(_deallocated(line, batch))
                    return batch.reference
        return None

    @icontract.require(lambda qty: qty >= 0, "batch quantity must not be negative")
    @icontract.ensure(
        lambda self, ref: self.batch(ref).available_quantity >= 0,
        "a batch never keeps more allocations than its quantity",
    )
    def change_batch_quantity(self, ref: str, qty: int) -> None:
        """Set the batch's quantity; lines that no longer fit are deallocated to reallocate."""
        batch = self.batch(ref)
        batch.purchased_quantity = qty
        self.version_number += 1
        while batch.available_quantity < 0:
            line = batch.deallocate_one()
            self.add_event(_deallocated(line, batch, reallocate=True))
