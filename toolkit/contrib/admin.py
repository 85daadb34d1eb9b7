"""A Django admin change list that answers bad query strings with a refusal, not a 500.

Django's change list hands its list-filter parameters to the ORM as they come: a NUL character
(``?status__exact=%00``) reaches PostgreSQL, which refuses it with a ``DataError``, and a year of
the date hierarchy too large for a ``datetime`` (``?created_at__year=99999999999999999999``)
raises ``OverflowError``; both are 500 pages. :class:`SafeChangeListMixin` checks those first:
NUL is a 400 that says so, a date-hierarchy part that is not a small whole number goes back to
the list with Django's own "invalid lookup" flag (``?e=1``), as an unknown filter does.

.. code-block:: python

    @admin.register(Order)
    class OrderAdmin(SafeChangeListMixin, admin.ModelAdmin):
        date_hierarchy = "created_at"
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ERROR_FLAG
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect

#: The largest value each date-hierarchy part may take (a year ``datetime`` can hold).
_DATE_PARTS = {"year": 9999, "month": 12, "day": 31}


class SafeChangeListMixin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Refuse a change-list query string with NUL (400) or an impossible date-hierarchy part
    (back to the list with ``?e=1``) before Django's change list turns it into a 500."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return HttpResponseBadRequest(
                    f"Null characters are not allowed in the query string (parameter "
                    f"{key[:50]!r}).",
                    content_type="text/plain; charset=utf-8",
                )
        if self.date_hierarchy and not self._date_parts_valid(request):
            return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
        return super().changelist_view(request, extra_context)

    def _date_parts_valid(self, request: HttpRequest) -> bool:
        field = str(self.date_hierarchy)
        for part, largest in _DATE_PARTS.items():
            value = request.GET.get(f"{field}__{part}")
            if value is None:
                continue
            value = value.strip()
            if not (value.isascii() and value.isdigit() and len(value) <= 4):
                return False
            if not 1 <= int(value) <= largest:
                return False
        return True
