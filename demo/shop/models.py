"""The demo shop's tables: orders (driven by ``OrderMachine``), a loyalty ledger written by
the loyalty plugin, and the revenue-per-day read model kept by a projection."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone


class Order(models.Model):
    """A customer's order; ``status`` only changes through ``demo.shop.machines.OrderMachine``."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        PAID = "paid", "paid"
        SHIPPED = "shipped", "shipped"
        DELIVERED = "delivered", "delivered"
        CANCELLED = "cancelled", "cancelled"
        REFUNDED = "refunded", "refunded"

    customer = models.CharField(max_length=200)
    email = models.EmailField()
    address = models.TextField(blank=True, default="")
    total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    discount_percent = models.PositiveSmallIntegerField(default=0)
    pricing = models.CharField(max_length=40, default="standard")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("refund_order", "Can refund an order"),
            ("cancel_large_order", "Can cancel orders over 1000 (manager)"),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk} ({self.customer}, {self.total})"


class LoyaltyEntry(models.Model):
    """Points the loyalty plugin awarded for one paid order."""

    email = models.EmailField(db_index=True)
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="loyalty_entry")
    points = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "loyalty entries"

    def __str__(self) -> str:
        return f"{self.email}: {self.points} points for order #{self.order_id}"


class DailyRevenue(models.Model):
    """Read model of the ``revenue_per_day`` projection: checked-out carts per day."""

    day = models.DateField(unique=True)
    carts = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        ordering = ["-day"]
        verbose_name_plural = "daily revenue"

    def __str__(self) -> str:
        return f"{self.day}: {self.revenue} from {self.carts} carts"
