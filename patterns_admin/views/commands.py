"""The command log, and undo: confirm, then POST with the ``undo_command`` permission."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from patterns_admin.audit import record_action, record_failure
from patterns_admin.filters import CommandAuditFilter
from patterns_admin.http import HtmxHttpRequest, wants_fragment
from patterns_admin.masking import masker_for
from patterns_admin.permissions import has_panel_permission, permission_required_403
from patterns_admin.querystring import canonical_url_view, kept_on_filter
from patterns_admin.selectors import command_audit_list
from patterns_admin.tables import build_table
from patterns_admin.tables_audit import CommandAuditTable

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
    table, table_errors = build_table(request, CommandAuditTable, rows)
    errors += table_errors
    table.may_undo = has_panel_permission(request, "undo_command")
    table.mask = masker_for(request)
    fragment = wants_fragment(request)
    template_name = "patterns_admin/commands/list.html" + ("#results" if fragment else "")
    context = {
        "title": "Commands",
        "filter": filterset,
        "filter_hidden": kept_on_filter(request.GET),
        "table": table,
        "errors": errors,
    }
    return render(request, template_name, context, status=400 if errors and not fragment else 200)


def _execute_entry(pk: int) -> CommandAuditLog:
    """The command's execute row ``pk`` with its user, or 404 (undo rows are not undoable)."""
    from toolkit.models import CommandAuditLog

    return get_object_or_404(
        CommandAuditLog.objects.select_related("user"), pk=pk, kind=CommandAuditLog.Kind.EXECUTE
    )


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_commands")
@permission_required_403("undo_command")
def command_undo_confirm(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The confirmation of an undo: what will be undone, and the POST form that does it."""
    entry = _execute_entry(pk)
    template_name = "patterns_admin/commands/confirm.html"
    if wants_fragment(request):
        template_name += "#confirm"
    return render(request, template_name, {"title": f"Undo command #{pk}", "entry": entry})


@require_POST
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_commands")
@permission_required_403("undo_command")
def command_undo(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Undo the command of entry ``pk`` through ``undo_from_audit``, as the acting user.

    The result is a fragment for htmx (plus the ``auditChanged`` event, which refreshes the
    list), a redirect to the command's entry otherwise. Refusals from the toolkit
    (``AlreadyUndone``, ``UndoNotSupported``, ...) become error messages, never a 500.
    """
    from toolkit.core.exceptions import PatternError
    from toolkit.patterns.command import undo_from_audit

    entry = _execute_entry(pk)
    fragment = wants_fragment(request)
    target = f"command#{pk}"
    undo = None
    try:
        undo = undo_from_audit(pk, user=request.user)
    except PatternError as exc:
        messages.error(request, f"Could not undo #{pk}: {exc}")
        record_failure(
            user=request.user,
            action="undo_command",
            target=target,
            exc=exc,
            detail={"command": entry.command},
        )
    except Exception as exc:
        logger.exception("Undo of command #%s failed", pk)
        messages.error(request, f"Could not undo #{pk}: {type(exc).__name__}: {exc}")
        record_failure(
            user=request.user,
            action="undo_command",
            target=target,
            exc=exc,
            detail={"command": entry.command},
        )
    else:
        messages.success(
            request, f"Undid #{pk} ({entry.command.rsplit('.', 1)[-1]}): see #{undo.pk}."
        )
        record_action(
            user=request.user,
            action="undo_command",
            target=target,
            detail={"command": entry.command, "undo_id": undo.pk},
        )
    if not fragment:
        return redirect(reverse("patterns_admin:command-list") + f"?entry={pk}")
    response = render(
        request,
        "patterns_admin/commands/confirm.html#result",
        {"entry": entry, "undo": undo},
    )
    return trigger_client_event(response, "auditChanged")
