"""The shop in the Django admin; orders get the transition buttons and bulk actions."""

from __future__ import annotations

from django.contrib import admin

from demo.shop.models import DailyRevenue, LoyaltyEntry, Order
from patterns_admin.admin_transitions import TransitionAdminMixin


@admin.register(Order)
class OrderAdmin(TransitionAdminMixin, admin.ModelAdmin):  # type: ignore[misc, type-arg]
    list_display = ["id", "customer", "email", "total", "pricing", "status", "created_at"]
    list_filter = ["status", "pricing"]
    search_fields = ["customer", "email"]
    # The state changes only through the machine (the buttons under the form).
    readonly_fields = ["status"]
    date_hierarchy = "created_at"


@admin.register(LoyaltyEntry)
class LoyaltyEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["email", "order", "points", "created_at"]


@admin.register(DailyRevenue)
class DailyRevenueAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["day", "carts", "revenue"]
