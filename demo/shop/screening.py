"""What the demo plugins do, without the plugin machinery: the shop's guards and bus
handlers call these, and they act only while the plugin is active in this process."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from demo.shop.models import LoyaltyEntry, Order

#: Totals above this are held when the buyer's mail domain is not trusted.
FRAUD_LIMIT = Decimal("5000")
#: Mail domains whose large orders go through unheld.
TRUSTED_DOMAINS = frozenset({"example.com", "example.org"})
LOYALTY = "loyalty_points"
FRAUD_SCREENING = "fraud_screening"

_lock = threading.Lock()
_active: set[str] = set()


def set_active(name: str, active: bool) -> None:
    """Mark the plugin ``name`` active or inactive in this process (its activate/deactivate)."""
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
    if not is_active(FRAUD_SCREENING):
        return None
    domain = order.email.rpartition("@")[2].lower()
    if order.total > FRAUD_LIMIT and domain not in TRUSTED_DOMAINS:
        return f"total {order.total} above {FRAUD_LIMIT} from untrusted domain {domain!r}"
    return None


def award_points(payload: Any) -> None:
    """Bus handler of ``order.pay``: record the order's loyalty points (once per order)."""
    if not is_active(LOYALTY) or not isinstance(payload, dict):
        return
    order_id = payload.get("object_id") or payload.get("pk") or payload.get("id")
    if order_id is None:
        return
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return
    LoyaltyEntry.objects.get_or_create(
        order=order, defaults={"email": order.email, "points": int(order.total)}
    )
