"""``OrderMachine``: the lifecycle of an :class:`~demo.shop.models.Order`.

::

    pending ──pay──▶ paid ──ship──▶ shipped ──deliver──▶ delivered
       │               │                                     │
       └──cancel──▶ cancelled ◀──cancel──┘        paid/delivered ──refund──▶ refunded

Guards carry the explanation the panel shows when a transition is blocked; ``refund`` needs
the ``shop.refund_order`` permission.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from demo.shop.models import Order
from demo.shop.screening import fraud_verdict
from toolkit.patterns.state_machine import StateMachine, Transition, guard

#: Orders above this total need a manager (``shop.cancel_large_order``) to be cancelled.
LARGE_ORDER = Decimal("1000")


@guard("cannot ship an order without an address")
def has_address(order: Order, user: Any) -> bool:
    return bool(order.address.strip())


@guard("cannot cancel an order over 1000 without a manager")
def small_or_manager(order: Order, user: Any) -> bool:
    if order.total <= LARGE_ORDER:
        return True
    return user is not None and user.has_perm("shop.cancel_large_order")


@guard("payment held by fraud screening")
def passes_fraud_screening(order: Order, user: Any) -> bool:
    return fraud_verdict(order) is None


class OrderMachine(StateMachine):
    """Pay, ship, deliver, cancel and refund orders."""

    class Meta:
        model = Order
        states = [choice.value for choice in Order.Status]
        state_field = "status"
        audit = True
        transitions = [
            Transition("pay", source="pending", target="paid", guards=[passes_fraud_screening]),
            Transition("ship", source="paid", target="shipped", guards=[has_address]),
            Transition("deliver", source="shipped", target="delivered"),
            Transition(
                "cancel",
                source=["pending", "paid"],
                target="cancelled",
                guards=[small_or_manager],
            ),
            Transition(
                "refund",
                source=["paid", "delivered"],
                target="refunded",
                permission="shop.refund_order",
            ),
        ]
