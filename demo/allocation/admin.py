"""Admin pages of the allocation demo: rows are read-only; changes are commands on the bus.

Editing a product, batch or allocation row here would bypass the domain's rules, its events
and the optimistic lock on ``version_number``; the read model is kept by event handlers. So
the row forms are read-only, and the one change the admin offers, a batch's quantity, is a
form that sends the book's ``ChangeBatchQuantity`` command through the message bus (lines that
no longer fit are reallocated, the read model follows), as ``/allocation/`` does for
``Allocate``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from demo.allocation import bootstrap, commands, models


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


class BatchQuantityForm(forms.Form):
    """The new quantity of a batch (lines that no longer fit are reallocated)."""

    qty = forms.IntegerField(min_value=0, label="Quantity")


@admin.register(models.Batch)
class BatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Batches with their allocated quantity, and a form that changes a batch's quantity."""

    list_display = ("reference", "product", "purchased_quantity", "allocated", "eta", "quantity")
    search_fields = ("reference", "product__sku")
    list_select_related = ("product",)
    #: Who may change a quantity (a permission Django creates for the model).
    quantity_permission = "allocation.change_batch"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(allocated_qty=Sum("allocations__qty"))

    @admin.display(description="allocated", ordering="allocated_qty")
    def allocated(self, batch: Any) -> int:
        return int(batch.allocated_qty or 0)

    @admin.display(description="")
    def quantity(self, batch: Any) -> str:
        url = reverse("admin:allocation_batch_quantity", args=[batch.pk])
        return format_html('<a href="{}">Change quantity</a>', url)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.change_quantity_view)
        return [
            path("<path:object_id>/quantity/", view, name="allocation_batch_quantity"),
            *super().get_urls(),
        ]

    def change_quantity_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the form; POST: ``ChangeBatchQuantity`` through the bus, then the changelist."""
        if not request.user.has_perm(self.quantity_permission):
            raise PermissionDenied
        batch = get_object_or_404(models.Batch.objects.select_related("product"), pk=object_id)
        form = BatchQuantityForm(
            request.POST if request.method == "POST" else None,
            initial={"qty": batch.purchased_quantity},
        )
        if form.is_valid():
            qty = form.cleaned_data["qty"]
            bootstrap.bootstrap().handle(commands.ChangeBatchQuantity(batch.reference, qty))
            self.message_user(
                request,
                f"Batch {batch.reference!r} now holds {qty}; lines that no longer fit were "
                "allocated again.",
                messages.SUCCESS,
            )
            return redirect("admin:allocation_batch_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Change the quantity of batch {batch.reference}",
            "batch": batch,
            "form": form,
        }
        return TemplateResponse(request, "admin/allocation/batch/change_quantity.html", context)


@admin.register(models.Allocation)
class AllocationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("orderid", "sku", "qty", "batch")
    search_fields = ("orderid", "sku")
    list_select_related = ("batch",)


@admin.register(models.AllocationView)
class AllocationViewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("orderid", "sku", "batchref")
    search_fields = ("orderid",)
