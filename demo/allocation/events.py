"""The book's domain events: facts the allocation domain records, handled by the message bus."""

from __future__ import annotations

from dataclasses import dataclass


class Event:
    """Base of the allocation events (the message bus routes messages by this class)."""


@dataclass
class Allocated(Event):
    """An order line was allocated to a batch."""

    orderid: str
    sku: str
    qty: int
    batchref: str


@dataclass
class Deallocated(Event):
    """An order line lost its batch (its quantity was lowered) and must be allocated again."""

    orderid: str
    sku: str
    qty: int


@dataclass
class OutOfStock(Event):
    """No batch of the SKU could take an order line."""

    sku: str
