"""``ShoppingCart``: an event-sourced aggregate, snapshotted every 10 events.

Its events apply themselves (``Opened``, ``ItemAdded``, ``ItemRemoved``, ``CheckedOut``,
``Abandoned``). ``ItemAdded`` has two schema versions in ``event_schemas/shopping_cart/``: v1
stored ``qty`` and ``price``, v2 stores ``quantity`` and ``unit_price``; the upcaster below
reads v1 events as v2, so ``apply`` only knows the current shape.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from toolkit.eventsourcing import Aggregate, AggregateEvent, AggregateRepository, upcaster
from toolkit.patterns.exceptions import ValidationError

ITEM_ADDED = "ShoppingCart.ItemAdded"


def _total(items: dict[str, dict[str, Any]]) -> str:
    amount = sum(
        (Decimal(item["unit_price"]) * item["quantity"] for item in items.values()), Decimal(0)
    )
    return str(amount.quantize(Decimal("0.01")))


class ShoppingCart(Aggregate):
    """A customer's cart: items by SKU, a running total, open until checked out or abandoned."""

    snapshot_every = 10

    customer: str
    status: str
    items: dict[str, dict[str, Any]]
    total: str

    class Opened(AggregateEvent):
        def apply(self, cart: Any) -> None:
            cart.customer = self.customer
            cart.status = "open"
            cart.items = {}
            cart.total = "0.00"

    class ItemAdded(AggregateEvent):
        def apply(self, cart: Any) -> None:
            items = dict(cart.items)
            line = dict(items.get(self.sku, {"quantity": 0, "unit_price": self.unit_price}))
            line["quantity"] += self.quantity
            line["unit_price"] = self.unit_price
            items[self.sku] = line
            cart.items = items
            cart.total = _total(items)

    class ItemRemoved(AggregateEvent):
        def apply(self, cart: Any) -> None:
            items = {sku: line for sku, line in cart.items.items() if sku != self.sku}
            cart.items = items
            cart.total = _total(items)

    class CheckedOut(AggregateEvent):
        def apply(self, cart: Any) -> None:
            cart.status = "checked_out"
            cart.total = self.total

    class Abandoned(AggregateEvent):
        def apply(self, cart: Any) -> None:
            cart.status = "abandoned"

    @classmethod
    def open(cls, cart_id: str, customer: str) -> ShoppingCart:
        """A new, empty cart for ``customer``."""
        return cls.create(cart_id, cls.Opened, customer=customer)

    def _require_open(self, action: str) -> None:
        if self.status != "open":
            raise ValidationError(
                f"cannot {action} cart {self.id!r}: it is {self.status}",
                field="status",
                value=self.status,
            )

    def add_item(self, sku: str, quantity: int, unit_price: Decimal | str) -> None:
        """Add ``quantity`` of ``sku`` at ``unit_price``."""
        self._require_open("add to")
        if quantity < 1:
            raise ValidationError(
                f"quantity: {quantity!r} must be 1 or more", field="quantity", value=quantity
            )
        self.trigger(ShoppingCart.ItemAdded, sku=sku, quantity=quantity, unit_price=str(unit_price))

    def remove_item(self, sku: str) -> None:
        """Remove every unit of ``sku``."""
        self._require_open("remove from")
        if sku not in self.items:
            choices = ", ".join(repr(s) for s in sorted(self.items)) or "none"
            raise ValidationError(
                f"sku: {sku!r} is not in cart {self.id!r}; in the cart: {choices}",
                field="sku",
                value=sku,
            )
        self.trigger(ShoppingCart.ItemRemoved, sku=sku)

    def check_out(self) -> None:
        """Close the cart and charge its total."""
        self._require_open("check out")
        if not self.items:
            raise ValidationError(
                f"cannot check out cart {self.id!r}: it is empty", field="items", value={}
            )
        self.trigger(ShoppingCart.CheckedOut, total=self.total, lines=len(self.items))

    def abandon(self) -> None:
        """Give up on the cart."""
        self._require_open("abandon")
        self.trigger(ShoppingCart.Abandoned)


@upcaster(ITEM_ADDED, from_version=1)
def item_added_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 ``{"sku", "qty", "price"}`` → v2 ``{"sku", "quantity", "unit_price"}``."""
    return {"sku": payload["sku"], "quantity": payload["qty"], "unit_price": payload["price"]}


def cart_repository() -> AggregateRepository[ShoppingCart]:
    """The repository of carts on the configured event store."""
    return AggregateRepository(ShoppingCart)
