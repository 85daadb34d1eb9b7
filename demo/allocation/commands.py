"""The book's commands: what a caller asks the allocation service to do (one handler each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


class Command:
    """Base of the allocation commands (the message bus routes messages by this class)."""


@dataclass
class Allocate(Command):
    """Allocate ``qty`` of ``sku`` for order ``orderid``."""

    orderid: str
    sku: str
    qty: int


@dataclass
class CreateBatch(Command):
    """Add the batch ``ref`` of ``sku`` (warehouse stock when ``eta`` is None)."""

    ref: str
    sku: str
    qty: int
    eta: date | None = None


@dataclass
class ChangeBatchQuantity(Command):
    """Set the quantity of batch ``ref``."""

    ref: str
    qty: int
