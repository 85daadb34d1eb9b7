"""The command log, and undo: confirm, then POST with the ``undo_command`` permission."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from patterns_admin.audit import record_action, record_failure
from patterns_admin.filters import CommandAuditFilter
from patterns_admin.http import HtmxHttpRequest, render_page, wants_fragment
from patterns_admin.masking import MASK, masker_for, may_view_sensitive, sensitive_fields
from patterns_admin.permissions import forbidden, has_panel_permission, permission_required_403
from patterns_admin.querystring import canonical_url_view, kept_on_filter
from patterns_admin.selectors import command_audit_list
from patterns_admin.tables import LIVE_INTERVAL, build_table
from patterns_admin.tables_audit import CommandAuditTable, compact_json, object_url
from toolkit.core.exceptions import PatternError
from toolkit.patterns.command_preview import FieldChange, UndoPreview, checked_undo, undo_preview

if TYPE_CHECKING:
    from toolkit.models import CommandAuditLog

logger = logging.getLogger("patterns_admin.commands")


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_commands")
@canonical_url_view
def command_list(request: HtmxHttpRequest) -> HttpResponse:
    """Commands newest first, with an Undo control where the command can still be undone."""
    filterset = CommandAuditFilter(request.GET or None, queryset=command_audit_list())
    errors: list[str] = []
    if filterset.is_bound and not filterset.is_valid():
        errors += filterset.error_messages()
    rows = filterset.queryset.none() if errors else filterset.qs
    navigation = None if errors else filterset.navigation(request)
    table, table_errors = build_table(request, CommandAuditTable, rows)
    errors += table_errors
    table.may_undo = has_panel_permission(request, "undo_command")
    table.mask = masker_for(request)
    context = {
        "title": "Commands",
        "filter": filterset,
        "filter_hidden": kept_on_filter(request.GET),
        "table": table,
        "errors": errors,
        "navigation": navigation,
        "live_interval": LIVE_INTERVAL,
    }
    return render_page(request, "patterns_admin/commands/list.html", context, failed=bool(errors))


def _execute_entry(pk: int) -> CommandAuditLog:
    """The command's execute row ``pk`` with its user, or 404 (undo rows are not undoable)."""
    from toolkit.models import CommandAuditLog

    return get_object_or_404(
        CommandAuditLog.objects.select_related("user"), pk=pk, kind=CommandAuditLog.Kind.EXECUTE
    )


@dataclass(frozen=True)
class PreviewRow:
    """One line of the undo confirmation: an object's field, now and after the undo."""

    model: str
    pk: str
    action: str
    field: str
    before: str
    after: str
    url: str


def preview_rows(preview: UndoPreview, request: HttpRequest) -> list[PreviewRow]:
    """The preview's changes as table lines, sensitive fields masked for this user."""
    hidden = frozenset() if may_view_sensitive(request) else sensitive_fields()
    rows: list[PreviewRow] = []
    for change in preview.changes:
        url = object_url(change.model, change.pk) if change.pk else ""
        for fc in change.fields or (FieldChange("", None, None),):
            masked = fc.field.lower() in hidden
            rows.append(
                PreviewRow(
                    model=change.model,
                    pk=change.pk,
                    action=change.action,
                    field=fc.field,
                    before=MASK if masked else _shown(fc.before),
                    after=MASK if masked else _shown(fc.after),
                    url=url,
                )
            )
    return rows


def _shown(value: Any) -> str:
    return "—" if value is None else str(value)


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_commands")
@permission_required_403("undo_command")
def command_undo_confirm(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The confirmation of an undo: what it will change (a dry run of the command's own
    ``undo()``), and the POST form that does it, or the reason it cannot be done now."""
    entry = _execute_entry(pk)
    preview = undo_preview(pk)
    template_name = "patterns_admin/commands/confirm.html"
    if wants_fragment(request):
        template_name += "#confirm"
    context = {
        "title": f"Undo command #{pk}",
        "entry": entry,
        "params": compact_json(masker_for(request)(entry.params), limit=2000),
        "undo_state": masker_for(request)(preview.undo_state),
        "preview": preview,
        "rows": preview_rows(preview, request),
        "may_force": has_panel_permission(request, "force_undo"),
    }
    return render(request, template_name, context)


@require_POST
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_commands")
@permission_required_403("undo_command")
def command_undo(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Undo the command of entry ``pk`` through ``checked_undo``, as the acting user.

    The toolkit refuses, writing nothing, an undo that cannot succeed now or whose objects
    changed since the command ran (``force=1`` overrides the latter, with the ``force_undo``
    permission). The result is a fragment for htmx (plus the ``auditChanged`` event, which
    refreshes the list), a redirect to the command's entry otherwise. Refusals become error
    messages, never a 500.
    """
    entry = _execute_entry(pk)
    force = request.POST.get("force") == "1"
    if force and not has_panel_permission(request, "force_undo"):
        return forbidden(request, "force_undo")
    fragment = wants_fragment(request)
    target = f"command#{pk}"
    undo = None
    try:
        undo = checked_undo(pk, user=request.user, force=force)
    except PatternError as exc:
        messages.error(request, f"Could not undo #{pk}: {exc}")
        record_failure(
            user=request.user,
            action="undo_command",
            target=target,
            exc=exc,
            detail={"command": entry.command, "force": force},
        )
    except Exception as exc:
        logger.exception("Undo of command #%s failed", pk)
        messages.error(request, f"Could not undo #{pk}: {type(exc).__name__}: {exc}")
        record_failure(
            user=request.user,
            action="undo_command",
            target=target,
            exc=exc,
            detail={"command": entry.command, "force": force},
        )
    else:
        messages.success(
            request, f"Undid #{pk} ({entry.command.rsplit('.', 1)[-1]}): see #{undo.pk}."
        )
        record_action(
            user=request.user,
            action="undo_command",
            target=target,
            detail={"command": entry.command, "undo_id": undo.pk, "force": force},
        )
    if not fragment:
        return redirect(reverse("patterns_admin:command-list") + f"?entry={pk}")
    response = render(
        request,
        "patterns_admin/commands/confirm.html#result",
        {"entry": entry, "undo": undo},
    )
    return trigger_client_event(response, "auditChanged")
