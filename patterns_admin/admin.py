"""Django admin registrations of the panel's own models."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from patterns_admin.models import PanelActionLog
from toolkit.contrib.admin import SafeChangeListMixin


@admin.register(PanelActionLog)
class PanelActionLogAdmin(SafeChangeListMixin):
    """Read-only: the log of actions is written by the panel, never edited by hand."""

    list_display = ("created_at", "user", "action", "target", "success")
    list_filter = ("action", "success")
    list_select_related = ("user",)
    search_fields = ("target",)
    date_hierarchy = None
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: PanelActionLog | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: PanelActionLog | None = None
    ) -> bool:
        return False
