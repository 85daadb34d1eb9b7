"""The shop's commands: audited, and undoable except ``SendInvoiceCommand``.

Constructor arguments are the command's params (stored as JSON in the audit row and used to
rebuild the command in another process), so they are plain values: ids, strings, numbers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime

from demo.shop.models import Order
from demo.shop.strategies import price
from toolkit.patterns.command import Command
from toolkit.patterns.exceptions import UndoNotSupported, ValidationError

#: Largest discount ``ApplyDiscountCommand`` accepts, in percent.
MAX_DISCOUNT = 50


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValidationError(
            f"{field}: {value!r} is not an amount", field=field, value=value
        ) from exc
    if not amount.is_finite() or amount < 0:
        raise ValidationError(
            f"{field}: {value!r} must be a positive amount", field=field, value=value
        )
    return amount


class CreateOrderCommand(Command[Order]):
    """Create a pending order priced by a pricing strategy; undo deletes it while pending."""

    audit = True

    def __init__(
        self,
        customer: str,
        email: str,
        subtotal: str,
        address: str = "",
        pricing: str = "standard",
        placed_at: str | None = None,
    ) -> None:
        self.customer = customer
        self.email = email
        self.subtotal = subtotal
        self.address = address
        self.pricing = pricing
        self.placed_at = placed_at
        self.order_id: int | None = None

    def execute(self) -> Order:
        total = price(_amount(self.subtotal, "subtotal"), self.pricing)
        fields: dict[str, Any] = {}
        if self.placed_at:
            placed: datetime | None = parse_datetime(self.placed_at)
            if placed is None:
                raise ValidationError(
                    f"placed_at: {self.placed_at!r} is not an ISO date-time",
                    field="placed_at",
                    value=self.placed_at,
                )
            fields["created_at"] = placed
        order = Order.objects.create(
            customer=self.customer,
            email=self.email,
            address=self.address,
            total=total,
            pricing=self.pricing,
            **fields,
        )
        self.order_id = order.pk
        return order

    def undo(self) -> None:
        if self.order_id is None:
            raise UndoNotSupported(self.command_path(), "the order was never created")
        deleted, _ = Order.objects.filter(pk=self.order_id, status=Order.Status.PENDING).delete()
        if not deleted:
            raise UndoNotSupported(
                self.command_path(), f"order #{self.order_id} is no longer pending"
            )


class ApplyDiscountCommand(Command[Order]):
    """Take ``percent`` off a pending or paid order's total; undo restores the old total."""

    audit = True

    def __init__(self, order_id: int, percent: int) -> None:
        self.order_id = order_id
        self.percent = percent
        self.previous_total: str | None = None
        self.previous_percent: int | None = None

    def execute(self) -> Order:
        if not isinstance(self.percent, int) or not 1 <= self.percent <= MAX_DISCOUNT:
            raise ValidationError(
                f"percent: {self.percent!r} must be a whole number from 1 to {MAX_DISCOUNT}",
                field="percent",
                value=self.percent,
            )
        order = Order.objects.select_for_update().get(pk=self.order_id)
        if order.status not in (Order.Status.PENDING, Order.Status.PAID):
            raise ValidationError(
                f"order #{order.pk} is {order.status}; discounts apply to pending or paid orders",
                field="order_id",
                value=self.order_id,
            )
        self.previous_total = str(order.total)
        self.previous_percent = order.discount_percent
        factor = Decimal(100 - self.percent) / Decimal(100)
        order.total = (order.total * factor).quantize(Decimal("0.01"))
        order.discount_percent = self.percent
        order.save(update_fields=["total", "discount_percent"])
        return order

    def undo(self) -> None:
        if self.previous_total is None:
            raise UndoNotSupported(self.command_path(), "the discount was never applied")
        Order.objects.filter(pk=self.order_id).update(
            total=Decimal(self.previous_total), discount_percent=self.previous_percent or 0
        )


class SendInvoiceCommand(Command[dict[str, Any]]):
    """Mail the invoice of an order. Not undoable: a sent mail cannot be taken back."""

    audit = True
    undoable = False

    def __init__(self, order_id: int) -> None:
        self.order_id = order_id

    def execute(self) -> dict[str, Any]:
        order = Order.objects.get(pk=self.order_id)
        number = f"INV-{order.created_at:%Y%m}-{order.pk:06d}"
        return {"invoice": number, "sent_to": order.email, "total": str(order.total)}
