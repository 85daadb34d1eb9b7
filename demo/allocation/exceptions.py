"""Errors of the allocation service layer."""

from __future__ import annotations


class InvalidSku(Exception):
    """Raised by the ``allocate`` handler when no product has the line's SKU.

    The message is the book's, ``Invalid sku X`` (the SKU unquoted); ``sku`` keeps the value.
    """

    def __init__(self, sku: str) -> None:
        self.sku = sku
        super().__init__(f"Invalid sku {sku}")


class UnknownBatch(Exception):
    """Raised by ``change_batch_quantity`` for a batch reference no product has."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"No batch {ref!r}")
