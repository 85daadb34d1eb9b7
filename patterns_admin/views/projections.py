"""Projections: position, lag and last error of each, and a rebuild from zero.

Rebuilding replays every event into the projection again; the confirmation states how many
(``events_to_replay``). It is a POST that needs ``patterns_admin.replay_events`` and is
recorded in the panel's action log with the acting user.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from patterns_admin.audit import record_action
from patterns_admin.http import HtmxHttpRequest, wants_fragment
from patterns_admin.permissions import REPLAY_EVENTS, permission_required_403


def projection_rows() -> list[dict[str, Any]]:
    """Each projection's status with the number of events a rebuild would replay."""
    from toolkit.eventsourcing.projections import events_to_replay, projection_statuses

    return [
        {"status": status, "events_to_replay": events_to_replay(status.name)}
        for status in projection_statuses()
    ]


def _context(request: HtmxHttpRequest, result: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "title": "Projections",
        "rows": projection_rows(),
        "can_rebuild": request.user.has_perm(REPLAY_EVENTS),
        "result": result,
    }


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
def projection_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every registered projection: position, head, lag, health and last error."""
    template_name = "patterns_admin/projections/list.html"
    if wants_fragment(request):
        template_name += "#results"
    return render(request, template_name, _context(request))


@require_POST
@staff_member_required
@permission_required_403("replay_events")
def projection_rebuild(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """Rebuild the projection ``name`` from the first event; report how many were replayed."""
    from toolkit.eventsourcing.projections import events_to_replay, rebuild_projection
    from toolkit.registry import projections

    if name not in projections:
        registered = ", ".join(repr(n) for n in projections) or "none"
        raise Http404(f"No projection named {name!r}; registered: {registered}")
    expected = events_to_replay(name)
    result: dict[str, Any]
    try:
        replayed = rebuild_projection(name)
    except Exception as exc:  # reported to the operator and logged as a failed action
        result = {"ok": False, "message": f"Rebuilding {name!r} failed: {exc}"}
        record_action(
            user=request.user,
            action="rebuild_projection",
            target=f"projection:{name}",
            detail={"events": expected, "error": str(exc)},
            success=False,
        )
    else:
        noun = "event" if replayed == 1 else "events"
        result = {"ok": True, "message": f"Rebuilt {name!r}: replayed {replayed} {noun}."}
        record_action(
            user=request.user,
            action="rebuild_projection",
            target=f"projection:{name}",
            detail={"events": replayed},
        )
    if request.htmx:
        response = render(
            request, "patterns_admin/projections/list.html#results", _context(request, result)
        )
        return trigger_client_event(response, "auditChanged")
    messages.add_message(
        request, messages.SUCCESS if result["ok"] else messages.ERROR, str(result["message"])
    )
    return HttpResponseRedirect(reverse("patterns_admin:projection-list"))
