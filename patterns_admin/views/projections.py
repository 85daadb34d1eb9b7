"""Projections: health, lag and rate of each; per projection its segments with their holders
and leases, its dead letters, and the operator's actions.

Rebuilding or rewinding replays events into the projection again. ``GET .../rebuild/`` and
``GET .../rewind/?position=N`` (or ``?timestamp=ISO``) are confirmations that state how many
events will be replayed (``events_to_replay``, counted only when asked for, so the pages stay
cheap on a big event log); ``POST`` does it. Pause, resume and the dead letters' retry and
drop are POSTs too. Every action needs ``patterns_admin.replay_events`` and is recorded in the
panel's action log with the acting user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from patterns_admin.audit import record_action
from patterns_admin.http import HtmxHttpRequest, render_page, wants_fragment
from patterns_admin.listing import MAX_SEARCH, ListNavigation, form_errors, make_facet
from patterns_admin.permissions import REPLAY_EVENTS, permission_required_403
from patterns_admin.querystring import canonical_url_view
from patterns_admin.selectors import Count
from patterns_admin.tables import LIVE_INTERVAL
from toolkit.core.validation import MAX_INT

#: The values of the list's status and health facets (toolkit.eventsourcing.projections).
STATUSES = ("running", "idle", "retrying", "stalled", "failed", "paused")
HEALTHS = ("healthy", "degraded", "unhealthy")


class ProjectionFilterForm(forms.Form):
    """The projection list's search (name contains, any case) and its status and health
    facets. The rows are the registered projections' statuses, a few, read whole on every
    page: filtering and counting them is in memory, exact, with no extra query."""

    q = forms.CharField(label="Search", required=False, max_length=MAX_SEARCH)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "any"), *[(s, s) for s in STATUSES]]
    )
    health = forms.ChoiceField(
        label="Health", required=False, choices=[("", "any"), *[(h, h) for h in HEALTHS]]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": "name"})

    def keeps(self, row: Any, *, without: str = "") -> bool:
        """Whether ``row`` passes every filter but ``without``."""
        data = self.cleaned_data if self.is_bound else {}
        text = (data.get("q") or "").strip().casefold()
        return (
            (without == "q" or not text or text in row.name.casefold())
            and (without == "status" or not data.get("status") or row.status == data["status"])
            and (without == "health" or not data.get("health") or row.health == data["health"])
        )

    def navigation(self, request: HttpRequest, rows: list[Any]) -> ListNavigation:
        """The exact result count and the status and health facets, each counted over the
        rows the other filters keep."""
        data = self.cleaned_data if self.is_bound else {}
        facets = []
        for name, values in (("status", STATUSES), ("health", HEALTHS)):
            others = [row for row in rows if self.keeps(row, without=name)]
            options = [
                (value, value, Count(sum(getattr(row, name) == value for row in others), True))
                for value in values
            ]
            facets.append(
                make_facet(request, name, self.fields[name], options, data.get(name) or "")
            )
        shown = sum(self.keeps(row) for row in rows)
        return ListNavigation(Count(shown, exact=True), facets, None)


def _context(request: HtmxHttpRequest, result: dict[str, Any] | None = None) -> dict[str, Any]:
    from toolkit.eventsourcing.projections import projection_statuses

    rows = projection_statuses()
    # An action (POST) answers with the whole list, unfiltered; its links and poll go to the
    # list's own URL, not the action's.
    listing = request.method == "GET"
    form = ProjectionFilterForm((request.GET or None) if listing else None)
    errors = [] if form.is_valid() or not form.is_bound else form_errors(form)
    return {
        "title": "Projections",
        "rows": [row for row in rows if form.keeps(row)] if not errors else [],
        "form": form,
        "filter_hidden": {},
        "errors": errors,
        "navigation": form.navigation(request, rows) if listing and not errors else None,
        "live_url": request.get_full_path()
        if listing
        else reverse("patterns_admin:projection-list"),
        "live_interval": LIVE_INTERVAL,
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
@canonical_url_view
def projection_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every registered projection: position, head, lag, health and last error; searched by
    name, faceted by status and health (exact counts), refreshing itself every 10 s."""
    context = _context(request)
    return render_page(
        request, "patterns_admin/projections/list.html", context, failed=bool(context["errors"])
    )


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


def _detail_url(name: str) -> str:
    return reverse("patterns_admin:projection-detail", args=[name])


def _detail_context(
    request: HtmxHttpRequest, name: str, result: dict[str, Any] | None = None
) -> dict[str, Any]:
    from toolkit.eventsourcing.projections import dead_letters, projection_status

    return {
        "title": f"Projection {name}",
        "name": name,
        "status": projection_status(name),
        "letters": dead_letters(name)[:100],
        "can_act": request.user.has_perm(REPLAY_EVENTS),
        "result": result,
    }


def _confirmation(request: HtmxHttpRequest, page: str, **context: Any) -> HttpResponse:
    """A confirmation page, or its ``#confirm`` form alone for htmx (shown in the detail
    page's confirmation slot, posting back into ``#detail``)."""
    inline = wants_fragment(request)
    template_name = f"patterns_admin/projections/{page}.html"
    if inline:
        template_name += "#confirm"
    return render(request, template_name, {**context, "inline": inline})


def _after_action(request: HtmxHttpRequest, name: str, result: dict[str, Any]) -> HttpResponse:
    """The detail fragment (htmx) or a redirect to the detail page with a message."""
    if wants_fragment(request):
        response = render(
            request,
            "patterns_admin/projections/detail.html#detail",
            _detail_context(request, name, result),
        )
        return trigger_client_event(response, "auditChanged")
    messages.add_message(
        request, messages.SUCCESS if result["ok"] else messages.ERROR, str(result["message"])
    )
    return HttpResponseRedirect(_detail_url(name))


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_projections")
def projection_detail(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """One projection: status, health, segments (holder, lease, lag), rate, dead letters."""
    _registered(name)
    template_name = "patterns_admin/projections/detail.html"
    if wants_fragment(request):
        template_name += "#detail"
    return render(request, template_name, _detail_context(request, name))


@require_POST
@staff_member_required
@permission_required_403("view_projections")
@permission_required_403("replay_events")
def projection_pause(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """Pause (``action=pause``) or resume (``action=resume``) the workers of ``name``."""
    from toolkit.eventsourcing.projections import pause_projection, resume_projection

    _registered(name)
    action = request.POST.get("action", "")
    if action not in {"pause", "resume"}:
        result = {
            "ok": False,
            "message": f"Unknown action {action!r} for {name!r}; valid choices are: "
            "'pause', 'resume'.",
        }
        return _after_action(request, name, result)
    (pause_projection if action == "pause" else resume_projection)(name)
    record_action(user=request.user, action=f"{action}_projection", target=f"projection:{name}")
    verb = "Paused" if action == "pause" else "Resumed"
    return _after_action(request, name, {"ok": True, "message": f"{verb} {name!r}."})


def _rewind_target(data: Any) -> tuple[int | None, datetime | None, str]:
    """``(position, timestamp, error)`` from the rewind form's ``position`` / ``timestamp``."""
    raw_position = (data.get("position") or "").strip()
    raw_timestamp = (data.get("timestamp") or "").strip()
    if bool(raw_position) == bool(raw_timestamp):
        return None, None, "Give either a position or a timestamp to rewind to."
    if raw_position:
        # ASCII digits only ("²".isdigit() is true) and a value the position column holds.
        if not (raw_position.isascii() and raw_position.isdigit()) or (
            len(raw_position) > 19 or int(raw_position) > MAX_INT
        ):
            return (
                None,
                None,
                f"Position {raw_position[:50]!r} is not a whole number from 0 to {MAX_INT}.",
            )
        return int(raw_position), None, ""
    try:
        timestamp = parse_datetime(raw_timestamp)
    except ValueError:  # well formed but not a date: 2026-02-30, 25:61
        timestamp = None
    if timestamp is None:
        return (
            None,
            None,
            (
                f"Timestamp {raw_timestamp[:50]!r} is not an ISO 8601 date and time, "
                "e.g. 2026-12-01T00:00:00+00:00."
            ),
        )
    if timestamp.tzinfo is None:
        from django.utils import timezone

        timestamp = timezone.make_aware(timestamp)
    return None, timestamp, ""


@require_http_methods(["GET", "POST"])
@staff_member_required
@permission_required_403("view_projections")
@permission_required_403("replay_events")
@vary_on_headers("HX-Request")
def projection_rewind(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """GET: the confirmation with the position and the number of events to replay; POST:
    rewind ``name`` there."""
    from toolkit.eventsourcing.projections import (
        events_to_replay,
        resolve_position,
        rewind_projection,
    )

    _registered(name)
    data = request.GET if request.method == "GET" else request.POST
    position, timestamp, error = _rewind_target(data)
    if error:
        return _after_action(request, name, {"ok": False, "message": error})
    target = resolve_position(position=position, timestamp=timestamp)
    replay = events_to_replay(name, position=target)
    if request.method == "GET":
        return _confirmation(
            request,
            "rewind",
            title=f"Rewind {name}",
            name=name,
            position=target,
            events_to_replay=replay,
        )
    target_detail = {"position": target, "events": replay}
    try:
        done = rewind_projection(name, position=target)
    except Exception as exc:  # reported to the operator and logged as a failed action
        record_action(
            user=request.user,
            action="rewind_projection",
            target=f"projection:{name}",
            detail={**target_detail, "error": str(exc)},
            success=False,
        )
        return _after_action(
            request, name, {"ok": False, "message": f"Rewinding {name!r} failed: {exc}"}
        )
    record_action(
        user=request.user,
        action="rewind_projection",
        target=f"projection:{name}",
        detail=target_detail,
    )
    message = (
        f"Rewound {name!r} to position {done.position}: {done.replayed_now} event(s) replayed "
        f"now, {done.to_replay} left to the workers."
    )
    return _after_action(request, name, {"ok": True, "message": message})


@require_http_methods(["GET", "POST"])
@staff_member_required
@permission_required_403("view_projections")
@permission_required_403("replay_events")
@vary_on_headers("HX-Request")
def dead_letter_action(request: HtmxHttpRequest, name: str, pk: int, action: str) -> HttpResponse:
    """GET: confirm retrying (it replays one event) or dropping dead letter ``pk``; POST: do it."""
    from toolkit.eventsourcing.projections import (
        DeadLetterNotFound,
        dead_letters,
        drop_dead_letter,
        retry_dead_letter,
    )

    _registered(name)
    if action not in {"retry", "drop"}:
        raise Http404(f"Unknown dead-letter action {action!r}; valid choices are: 'drop', 'retry'")
    letter = next((d for d in dead_letters(name) if d.pk == pk), None)
    if letter is None:
        raise Http404(f"Projection {name!r} has no dead letter #{pk}")
    if request.method == "GET":
        return _confirmation(
            request,
            "dead_letter",
            title=f"{action.title()} dead letter #{pk} of {name}",
            name=name,
            letter=letter,
            action=action,
        )
    detail = {"position": letter.position, "event_id": str(letter.event_id)}
    try:
        if action == "retry":
            retry_dead_letter(name, pk)
        else:
            drop_dead_letter(name, pk)
    except DeadLetterNotFound as exc:
        raise Http404(str(exc)) from exc
    except Exception as exc:  # the handler failed again: the letter stays, with the error
        record_action(
            user=request.user,
            action=f"{action}_dead_letter",
            target=f"projection:{name}#{pk}",
            detail={**detail, "error": str(exc)},
            success=False,
        )
        message = f"Dead letter #{pk} of {name!r} failed again: {type(exc).__name__}: {exc}"
        return _after_action(request, name, {"ok": False, "message": message})
    record_action(
        user=request.user,
        action=f"{action}_dead_letter",
        target=f"projection:{name}#{pk}",
        detail=detail,
    )
    verb = "applied" if action == "retry" else "dropped"
    return _after_action(
        request, name, {"ok": True, "message": f"Dead letter #{pk} of {name!r} {verb}."}
    )
