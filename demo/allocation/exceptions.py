"""Errors of the allocation service layer."""

from __future__ import annotations


class InvalidSku(Exception):
    """Raised when an order line names a SKU no product has."""

    def __init__(self, sku: str) -> None:
        self.sku = sku
        super().__init__(f"Invalid sku {sku!r}: no product has this SKU")


class OutOfStockError(Exception):
    """Raised by ``allocate`` when no batch can take the line (``OutOfStock`` was emitted)."""

    def __init__(self, sku: str) -> None:
        self.sku = sku
        super().__init__(f"Out of stock for sku {sku!r}")


class NotAllocated(Exception):
    """Raised by ``deallocate`` when the order has no line of the SKU allocated."""

    def __init__(self, orderid: str, sku: str) -> None:
        self.orderid = orderid
        self.sku = sku
        super().__init__(f"Order {orderid!r} has no allocated line of sku {sku!r}")
