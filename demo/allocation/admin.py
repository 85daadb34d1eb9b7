"""Admin pages of the allocation demo (read-mostly: changes go through the service layer)."""

from __future__ import annotations

from django.contrib import admin

from demo.allocation import models


class BatchInline(admin.TabularInline):  # type: ignore[type-arg]
    model = models.Batch
    extra = 0


@admin.register(models.Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("sku", "version_number")
    search_fields = ("sku",)
    inlines = [BatchInline]


@admin.register(models.Allocation)
class AllocationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("orderid", "sku", "qty", "batch")
    search_fields = ("orderid", "sku")
    list_select_related = ("batch",)


@admin.register(models.AllocationView)
class AllocationViewAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("orderid", "sku", "batchref")
    search_fields = ("orderid",)
