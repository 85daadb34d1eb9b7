"""Projections: position, lag and last error of each, and a rebuild from zero.

Rebuilding replays every event into the projection again. ``GET .../rebuild/`` is the
confirmation, which states how many events will be replayed (``events_to_replay``, counted
only when asked for, so the list stays cheap on a big event log); ``POST`` rebuilds. Both need
``patterns_admin.replay_events``; the rebuild is recorded in the panel's action log with the
acting user.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from patterns_admin.audit import record_action
from patterns_admin.http import HtmxHttpRequest, wants_fragment
from patterns_admin.permissions import REPLAY_EVENTS, permission_required_403


def _context(request: HtmxHttpRequest, result: dict[str, Any] | None = None) -> dict[str, Any]:
    from toolkit.eventsourcing.projections import projection_statuses

    return {
        "title": "Projections",
        "rows": projection_statuses(),
        "can_rebuild": request.user.has_perm(REPLAY_EVENTS),
        "result": result,
    }


def _registered(name: str) -> None:
    from toolkit.registry import projections

    if name not in projections:
        registered = ", ".join(repr(n) for n in projections) or "none"
        raise Http404(f"No projection named {name!r}; registered: {registered}")


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_projections")
def projection_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every registered projection: position, head, lag, health and last error."""
    template_name = "patterns_admin/projections/list.html"
    if wants_fragment(request):
        template_name += "#results"
    return render(request, template_name, _context(request))


@require_http_methods(["GET", "POST"])
@staff_member_required
@permission_required_403("view_projections")
@permission_required_403("replay_events")
@vary_on_headers("HX-Request")
def projection_rebuild(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """GET: the confirmation with the number of events to replay; POST: rebuild ``name``."""
    from toolkit.eventsourcing.projections import events_to_replay, rebuild_projection

    _registered(name)
    if request.method == "GET":
        inline = wants_fragment(request)
        template_name = "patterns_admin/projections/rebuild.html"
        if inline:
            # Shown inside the list's table, whose #results section the POST replaces.
            template_name += "#confirm"
        context = {
            "title": f"Rebuild {name}",
            "name": name,
            "events_to_replay": events_to_replay(name),
            "inline": inline,
        }
        return render(request, template_name, context)
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
    if wants_fragment(request):
        response = render(
            request, "patterns_admin/projections/list.html#results", _context(request, result)
        )
        return trigger_client_event(response, "auditChanged")
    messages.add_message(
        request, messages.SUCCESS if result["ok"] else messages.ERROR, str(result["message"])
    )
    return HttpResponseRedirect(reverse("patterns_admin:projection-list"))
