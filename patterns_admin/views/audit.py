"""The audit log: state transitions and commands, filtered, sorted, paged, exported as CSV."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from patterns_admin.export import Column, csv_response
from patterns_admin.filters import CommandAuditFilter, TransitionAuditFilter
from patterns_admin.http import HtmxHttpRequest, render_page
from patterns_admin.masking import Masker, masker_for
from patterns_admin.permissions import forbidden, has_panel_permission
from patterns_admin.querystring import canonical_url_view, kept_on_filter
from patterns_admin.selectors import command_audit_list, transition_audit_list
from patterns_admin.tables import LIVE_INTERVAL, HtmxTable, build_table
from patterns_admin.tables_audit import CommandAuditTable, TransitionAuditTable


def _username(row: Any) -> str:
    return str(row.user.get_username()) if row.user_id else ""


def _duration_ms(row: Any) -> str:
    """Milliseconds to 0.1 ms, as the tables show them (the stored float has 15 digits)."""
    return "" if row.duration_ms is None else f"{row.duration_ms:.1f}"


def _fields(*names: str) -> list[Column]:
    """CSV columns that are the row's attributes of the same names."""
    return [(name, attrgetter(name)) for name in names]


@dataclass(frozen=True)
class AuditKind:
    """One tab of the audit log: its rows, filters, table and CSV columns."""

    label: str
    selector: Callable[[], QuerySet[Any]]
    filter_class: type[Any]
    table_class: type[HtmxTable]
    csv_columns: Sequence[Column]
    #: The panel permission that lets a user read this tab (pages, fragments and CSV).
    permission: str
    exclude: tuple[str, ...] = ()
    #: CSV columns that may hold sensitive fields (masked for users without view_sensitive).
    masked: tuple[str, ...] = ()

    def export_columns(self, masker: Masker) -> list[Column]:
        """The CSV columns, with :attr:`masked` ones passed through ``masker``."""
        return [
            (name, _masked(get, masker) if name in self.masked else get)
            for name, get in self.csv_columns
        ]


def _masked(get: Callable[[Any], Any], masker: Masker) -> Callable[[Any], Any]:
    return lambda row: masker(get(row))


KINDS: dict[str, AuditKind] = {
    "transitions": AuditKind(
        label="Transitions",
        selector=transition_audit_list,
        filter_class=TransitionAuditFilter,
        table_class=TransitionAuditTable,
        csv_columns=[
            *_fields("id", "created_at", "model", "object_id", "machine", "transition"),
            *_fields("from_state", "to_state"),
            ("user", _username),
            *_fields("reason", "metadata"),
        ],
        permission="view_audit",
        masked=("metadata",),
    ),
    "commands": AuditKind(
        label="Commands",
        selector=command_audit_list,
        filter_class=CommandAuditFilter,
        table_class=CommandAuditTable,
        exclude=("actions",),
        csv_columns=[
            *_fields("id", "created_at", "command", "kind"),
            ("undo_of", attrgetter("undo_of_id")),
            *_fields("params", "result"),
            ("user", _username),
            *_fields("success", "error"),
            ("duration_ms", _duration_ms),
        ],
        permission="view_commands",
        masked=("params", "result"),
    ),
}
DEFAULT_KIND = "transitions"


def _parse_kind(value: str | None) -> tuple[str, list[str]]:
    if not value:
        return DEFAULT_KIND, []
    if value in KINDS:
        return value, []
    choices = ", ".join(repr(k) for k in sorted(KINDS))
    return DEFAULT_KIND, [f"kind: {value!r} is not one of {choices}."]


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@canonical_url_view
def audit_list(request: HtmxHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Transitions or commands (``?kind=``), filtered, sorted, paged; ``?export=csv`` streams
    the filtered rows as CSV. Bad parameters give an empty table and the errors (status 400
    on a full page, 200 for htmx so the fragment is swapped in)."""
    kind_name, errors = _parse_kind(request.GET.get("kind"))
    kind = KINDS[kind_name]
    if not has_panel_permission(request, kind.permission):
        return forbidden(request, kind.permission)
    masker = masker_for(request)
    filterset = kind.filter_class(request.GET or None, queryset=kind.selector())
    if filterset.is_bound and not filterset.is_valid():
        errors += filterset.error_messages()
    export = request.GET.get("export") or ""
    if export and export != "csv":
        errors.append(f"export: {export!r} is not a known format; choices: 'csv'.")
    rows = filterset.queryset.none() if errors else filterset.qs
    if export == "csv" and not errors:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return csv_response(rows, kind.export_columns(masker), filename=f"{kind_name}-{stamp}.csv")
    table, table_errors = build_table(request, kind.table_class, rows, exclude=kind.exclude)
    table.mask = masker
    navigation = None if errors else filterset.navigation(request)
    errors += table_errors
    context = {
        "title": "Audit log",
        "kind": kind_name,
        "kinds": [(name, k.label) for name, k in KINDS.items()],
        "filter": filterset,
        "filter_hidden": {"kind": kind_name, **kept_on_filter(request.GET)},
        "table": table,
        "errors": errors,
        "navigation": navigation,
        "live_interval": LIVE_INTERVAL,
    }
    return render_page(request, "patterns_admin/audit/list.html", context, failed=bool(errors))
