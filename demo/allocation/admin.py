"""Admin pages of the allocation demo: read-only, because changes go through the service layer.

Editing a product, batch or allocation row here would bypass the domain's rules, its events
and the optimistic lock on ``version_number``; the read model is kept by event handlers. Use
``/allocation/`` or the message bus (``demo.allocation.bootstrap``) to change stock and
allocations.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from demo.allocation import models


class ReadOnlyAdminMixin:
    """Lists and shows rows; refuses add, change and delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BatchInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = models.Batch
    extra = 0


@admin.register(models.Product)
class ProductAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("sku", "version_number")
    search_fields = ("sku",)
    inlines = [BatchInline]


@admin.register(models.Allocation)
class AllocationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("orderid", "sku", "qty", "batch")
    search_fields = ("orderid", "sku")
    list_select_related = ("batch",)


@admin.register(models.AllocationView)
class AllocationViewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("orderid", "sku", "batchref")
    search_fields = ("orderid",)
