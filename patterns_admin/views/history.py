"""Investigation pages: one command in full, everything that touched one object, what one
user did. Read-only; each checks the read permission of what it shows."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from patterns_admin.history import object_history, user_activity
from patterns_admin.http import HtmxHttpRequest
from patterns_admin.masking import masker_for
from patterns_admin.permissions import has_panel_permission, permission_required_403
from patterns_admin.streams import pretty_json
from patterns_admin.tables_audit import object_url


def _no_nul(*values: str) -> None:
    """A NUL names nothing any table holds (and PostgreSQL would refuse the query): 404."""
    if any("\x00" in value for value in values):
        raise Http404("No such object")


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_commands")
def command_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One command audit row in full: parameters, result, error, undo state, its undos."""
    from toolkit.models import CommandAuditLog

    entry = get_object_or_404(CommandAuditLog.objects.select_related("user", "undo_of"), pk=pk)
    mask = masker_for(request)
    result = entry.result if isinstance(entry.result, dict) else {}
    touched = ""
    if isinstance(result.get("__model__"), str) and result.get("pk") is not None:
        label = str(result["__model__"])
        touched = f"{label}#{result['pk']}"
        touched_url = object_url(label, str(result["pk"]), page="object-history")
    else:
        touched_url = ""
    context = {
        "title": f"Command #{entry.pk}",
        "entry": entry,
        "params": pretty_json(mask(entry.params)),
        "result": pretty_json(mask(entry.result)),
        "undo_state": pretty_json(mask(entry.undo_state)),
        "attempts": list(
            CommandAuditLog.objects.select_related("user")
            .filter(undo_of=entry)
            .order_by("created_at", "id")
        ),
        "touched": touched,
        "touched_url": touched_url,
    }
    return render(request, "patterns_admin/history/command.html", context)


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_audit")
def object_history_view(
    request: HtmxHttpRequest, app_label: str, model_name: str, pk: str
) -> HttpResponse:
    """Everything that touched one object, newest first, with links to each record."""
    _no_nul(app_label, model_name, pk)
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError as exc:
        raise Http404(f"No model {app_label}.{model_name}") from exc
    label = model._meta.label_lower
    lines = object_history(
        label, pk, transitions=True, commands=has_panel_permission(request, "view_commands")
    )
    context: dict[str, Any] = {
        "title": f"History of {label} #{pk}",
        "lines": lines,
        "object_url": object_url(label, pk),
    }
    return render(request, "patterns_admin/history/object.html", context)


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_audit")
def user_activity_view(request: HtmxHttpRequest, username: str) -> HttpResponse:
    """What one user did: transitions, commands (with ``view_commands``), panel actions."""
    _no_nul(username)
    user_model = get_user_model()
    user = get_object_or_404(user_model, **{user_model.USERNAME_FIELD: username})
    lines = user_activity(
        user, transitions=True, commands=has_panel_permission(request, "view_commands")
    )
    return render(
        request,
        "patterns_admin/history/user.html",
        {"title": f"Activity of {username}", "lines": lines, "subject": user},
    )
