"""Django admin: the master sync action mixin and read-only views of the CQRS tables."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from toolkit.contrib.admin import SafeChangeListMixin
from toolkit.cqrs.models import CqrsDeadLetter, CqrsOutbox, CqrsRevisionGap


class CQRSAdminMasterSyncMixin(SafeChangeListMixin):
    """Adds the "Synchronise selected via CQRS" action to a master model's admin.

    .. code-block:: python

        @admin.register(Product)
        class ProductAdmin(CQRSAdminMasterSyncMixin, admin.ModelAdmin):
            pass
    """

    actions = ["sync_items"]

    def _cqrs_sync_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Adjust the QuerySet before sending the sync signal (default: unchanged)."""
        return queryset

    @admin.action(description="Synchronise selected via CQRS")
    def sync_items(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Send a SYNC message for every selected item (after the request's transaction)."""
        from toolkit.cqrs.sync import sync_queryset

        result = sync_queryset(self._cqrs_sync_queryset(queryset))
        self.message_user(
            request,
            f"{result.synced} of {result.total} {queryset.model._meta.verbose_name_plural} "
            "queued for CQRS synchronisation.",
            messages.SUCCESS,
        )


@admin.register(CqrsDeadLetter)
class CqrsDeadLetterAdmin(SafeChangeListMixin):
    """Dead letters, read-only; replay them from the panel or ``cqrs_dead_letters replay``."""

    list_display = ["id", "cqrs_id", "reason", "attempts", "created_at", "replayed_at"]
    list_filter = ["reason", "cqrs_id"]
    readonly_fields = ["payload", "cqrs_id", "reason", "error", "attempts", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CqrsOutbox)
class CqrsOutboxAdmin(SafeChangeListMixin):
    """Messages still to publish (pending)."""

    list_display = ["id", "cqrs_id", "instance_pk", "signal_type", "revision", "attempts"]
    list_filter = ["cqrs_id", "signal_type"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CqrsRevisionGap)
class CqrsRevisionGapAdmin(SafeChangeListMixin):
    """Revision gaps the replicas reported."""

    list_display = ["id", "cqrs_id", "instance_pk", "expected", "received", "created_at"]
    list_filter = ["cqrs_id"]
