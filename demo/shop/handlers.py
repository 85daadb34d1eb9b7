"""Bus subscriptions of the shop: the loyalty plugin's handler of ``order.pay``."""

from __future__ import annotations

from demo.shop.screening import award_points
from toolkit.patterns.observer import get_default_bus

get_default_bus().subscribe("order.pay", award_points)
