"""The demo's two plugins, found through the ``toolkit_demo.plugins`` entry-point group.

- :class:`LoyaltyPointsPlugin` awards one point per whole unit of currency when an order is
  paid (a bus handler on ``order.pay``).
- :class:`FraudScreeningPlugin` holds payments of risky orders: while it is active, the
  ``pay`` transition's guard asks :func:`fraud_verdict`.

Enable or disable them on the panel's plugin page; the state is persisted and every process
honours it.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from toolkit.patterns.plugin import Plugin

if TYPE_CHECKING:
    from demo.shop.models import Order

#: Totals above this are held when the buyer's mail domain is not trusted.
FRAUD_LIMIT = Decimal("5000")
#: Mail domains whose large orders go through unheld.
TRUSTED_DOMAINS = frozenset({"example.com", "example.org"})

_lock = threading.Lock()
_active: set[str] = set()


def _set_active(name: str, active: bool) -> None:
    with _lock:
        if active:
            _active.add(name)
        else:
            _active.discard(name)


def is_active(name: str) -> bool:
    """Whether the plugin ``name`` is active in this process."""
    return name in _active


def fraud_verdict(order: Order) -> str | None:
    """Why ``order``'s payment is held, or None when it may be paid (or screening is off)."""
    if not is_active(FraudScreeningPlugin.name):
        return None
    domain = order.email.rpartition("@")[2].lower()
    if order.total > FRAUD_LIMIT and domain not in TRUSTED_DOMAINS:
        return f"total {order.total} above {FRAUD_LIMIT} from untrusted domain {domain!r}"
    return None


def award_points(payload: Any) -> None:
    """Bus handler of ``order.pay``: record the order's loyalty points (once per order)."""
    if not is_active(LoyaltyPointsPlugin.name):
        return
    from demo.shop.models import LoyaltyEntry, Order

    order_id = payload.get("object_id") or payload.get("pk") or payload.get("id")
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return
    LoyaltyEntry.objects.get_or_create(
        order=order, defaults={"email": order.email, "points": int(order.total)}
    )


class LoyaltyPointsPlugin(Plugin):
    """Awards loyalty points for paid orders."""

    name = "loyalty_points"
    version = "1.2.0"

    def activate(self) -> None:
        _set_active(self.name, True)

    def deactivate(self) -> None:
        _set_active(self.name, False)


class FraudScreeningPlugin(Plugin):
    """Holds the payment of large orders from untrusted mail domains."""

    name = "fraud_screening"
    version = "0.9.1"

    def activate(self) -> None:
        _set_active(self.name, True)

    def deactivate(self) -> None:
        _set_active(self.name, False)
