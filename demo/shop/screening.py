"""What the demo plugins do: the shop's guards and bus handlers call these, and they act only
while the plugin is enabled (asked of the plugin registry at each call, see :func:`is_enabled`)."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from demo.shop.models import LoyaltyEntry, Order
from toolkit.patterns.plugin import get_plugin_registry

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
    """Whether the plugin ``name`` is active in this process (its activate() ran last)."""
    return name in _active


def is_enabled(name: str) -> bool:
    """Whether the plugin ``name`` should act now, as persisted for every process.

    When the process's plugin registry knows ``name`` (the demo's ``plugin_group``), it is
    asked first: ``is_enabled`` re-reads that plugin's row (one small query) and runs its
    ``activate()``/``deactivate()`` here to match, so a toggle made in another process (the
    panel, a shell) is honoured at the next order, with no sync at start. Otherwise only this
    process's flag counts.
    """
    registry = get_plugin_registry()
    if name in registry.names() and not registry.is_enabled(name):
        return False
    return is_active(name)


def fraud_verdict(order: Order) -> str | None:
    """Why ``order``'s payment is held, or None when it may be paid (or screening is off)."""
    if not is_enabled(FRAUD_SCREENING):
        return None
    domain = order.email.rpartition("@")[2].lower()
    if order.total > FRAUD_LIMIT and domain not in TRUSTED_DOMAINS:
        return f"total {order.total} above {FRAUD_LIMIT} from untrusted domain {domain!r}"
    return None


def award_points(payload: Any) -> None:
    """Bus handler of ``order.pay``: record the order's loyalty points (once per order)."""
    if not isinstance(payload, dict) or not is_enabled(LOYALTY):
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
