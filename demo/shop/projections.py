"""``RevenuePerDay``: a persistent projection of checked-out carts into ``DailyRevenue``."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F

from demo.shop.carts import ShoppingCart
from demo.shop.models import DailyRevenue
from toolkit.eventsourcing.projections import Projection
from toolkit.eventsourcing.store import StoredEvent


class RevenuePerDay(Projection):
    """Revenue and number of checked-out carts per day (UTC)."""

    name = "revenue_per_day"
    event_types = (ShoppingCart.CheckedOut,)

    def handle(self, event: StoredEvent) -> None:
        row, _ = DailyRevenue.objects.get_or_create(day=event.timestamp.date())
        DailyRevenue.objects.filter(pk=row.pk).update(
            carts=F("carts") + 1, revenue=F("revenue") + Decimal(event.payload["total"])
        )

    def reset(self) -> None:
        DailyRevenue.objects.all().delete()
