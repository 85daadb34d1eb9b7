"""Event streams: the list of aggregates, and one aggregate's events, snapshots, replay and
live tail.

Everything here reads; replaying to a sequence folds events in memory and writes nothing, so
it is a GET anyone with panel access may do (rebuilding projections, which writes, lives in
:mod:`patterns_admin.views.projections` behind ``patterns_admin.replay_events``).

The stream page has three regions that htmx refreshes on their own, chosen by
``request.htmx.target``: ``#events`` (paging through events), ``#replay`` (the replay form's
result) and ``#tail-control`` (the live tail's poll, which also appends the new events to
``#tail-events`` out of band, and its pause/resume toggle).
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from patterns_admin.http import HtmxHttpRequest, render_page, wants_fragment
from patterns_admin.masking import masker_for
from patterns_admin.pagination import KeysetPage
from patterns_admin.permissions import permission_required_403
from patterns_admin.querystring import canonical_url_view, kept_on_filter
from patterns_admin.streams import (
    EVENTS_PER_PAGE,
    compare,
    event_at,
    event_rows,
    get_stream,
    panel_store,
    parse_sequence,
    replay,
    snapshot_rows,
)
from patterns_admin.tables import DEFAULT_PER_PAGE, LIVE_INTERVAL, table_errors
from patterns_admin.tables_streams import EventStreamFilterForm, EventStreamTable, StreamRow
from toolkit.core.exceptions import ValidationError

#: Seconds between two polls of the live tail.
TAIL_INTERVAL = 2
_REGIONS = {"events": "events", "replay": "replay", "tail-control": "tail"}


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_streams")
@canonical_url_view
def stream_list(request: HtmxHttpRequest) -> HttpResponse:
    """Aggregates with type, id, event count and last event time; filterable (type facet
    with counts, id prefix search, date hierarchy where the store lists by time), counted,
    keyset-paged through the event store's stream listing (any backend); the newest page
    refreshes itself."""
    store = panel_store()
    form = EventStreamFilterForm(request.GET or None, store=store)
    errors = table_errors(request, EventStreamTable, cursors=False)
    if request.GET.get("date") and "date" not in form.fields:
        errors.append(
            f"date: the {store.backend.name} event store lists streams by position only, so "
            "this list has no date hierarchy."
        )
    valid = form.is_valid() or not form.is_bound
    rows: list[StreamRow] = []
    page = None
    if valid and not errors:
        per_page = int(request.GET.get("per_page") or DEFAULT_PER_PAGE)
        try:
            page = store.stream_page(
                **form.listing_filters(),
                before=request.GET.get("before") or None,
                after=request.GET.get("after") or None,
                limit=per_page,
            )
        except ValidationError as exc:  # a malformed or foreign page cursor
            errors.append(exc.message)
        else:
            rows = [StreamRow.of(info) for info in page.streams]
    navigation = form.navigation(request) if valid and not errors else None
    table = EventStreamTable(rows)
    if page is not None:
        table.keyset = KeysetPage.of_store(rows, per_page, page.older_cursor, page.newer_cursor)
    return render_page(
        request,
        "patterns_admin/streams/list.html",
        {
            "form": form,
            "filter_hidden": kept_on_filter(request.GET),
            "table": table,
            "errors": errors,
            "title": "Event streams",
            "navigation": navigation,
            "live_interval": LIVE_INTERVAL,
        },
        failed=bool(errors) or not valid,
    )


@require_GET
@staff_member_required
@vary_on_headers("HX-Request", "HX-Target")
@permission_required_403("view_streams")
def stream_detail(request: HtmxHttpRequest, aggregate_id: str) -> HttpResponse:
    """One aggregate: events, snapshots, replay to ``?at=N`` and the live tail."""
    store = panel_store()
    stream = get_stream(store, aggregate_id)
    last = stream.last_sequence
    params = request.GET
    at, replay_error = parse_sequence(params, "at", last=last)
    compare_from, from_error = parse_sequence(params, "from", last=last)
    compare_to, to_error = parse_sequence(params, "to", last=last)
    replay_error = replay_error or from_error or to_error
    after, events_error = parse_sequence(params, "after", last=last, minimum=0)
    tail_after, tail_error = parse_sequence(params, "tail_after", last=last, minimum=0)
    mask = masker_for(request)
    events = [] if events_error else event_rows(store, aggregate_id, after=after or 0, mask=mask)
    tail_start = last if tail_after is None else tail_after
    new_events = (
        [] if tail_after is None else event_rows(store, aggregate_id, after=tail_after, mask=mask)
    )
    first = events if events and not after else event_rows(store, aggregate_id, limit=1)
    context = {
        "stream": stream,
        "started_at": first[0].created_at if first else None,
        "title": f"{stream.aggregate_type} {stream.aggregate_id}",
        "stream_url": reverse("patterns_admin:stream-detail", args=[aggregate_id]),
        "events": events,
        "events_error": events_error,
        "events_after": after or 0,
        "next_after": events[-1].sequence if len(events) == EVENTS_PER_PAGE else None,
        "previous_after": max((after or 0) - EVENTS_PER_PAGE, 0) if after else None,
        "snapshots": snapshot_rows(store, aggregate_id, mask=mask),
        "at": at,
        "replay": replay(store, aggregate_id, at, mask=mask) if at is not None else None,
        "comparison": (
            compare(store, aggregate_id, compare_from, compare_to, mask=mask)
            if compare_from is not None and compare_to is not None and not replay_error
            else None
        ),
        "replay_error": replay_error,
        "tail_paused": params.get("tail") == "paused",
        "tail_error": tail_error,
        "tail_events": new_events,
        "tail_last": new_events[-1].sequence if new_events else tail_start,
        "tail_interval": TAIL_INTERVAL,
    }
    return render_page(
        request,
        "patterns_admin/streams/detail.html",
        context,
        failed=bool(replay_error or events_error or tail_error),
        fragment=_REGIONS.get(request.htmx.target or "", "stream")
        if wants_fragment(request)
        else "stream",
    )


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_streams")
def event_detail(request: HtmxHttpRequest, aggregate_id: str, sequence: int) -> HttpResponse:
    """The permalink of one event: its envelope, payload and metadata, what it changed (field
    by field) and links to its neighbours and to the state after it."""
    store = panel_store()
    stream = get_stream(store, aggregate_id)
    mask = masker_for(request)
    event = event_at(store, aggregate_id, sequence, mask=mask)
    stream_url = reverse("patterns_admin:stream-detail", args=[aggregate_id])
    context = {
        "title": f"{stream.aggregate_type} {aggregate_id} #{sequence}",
        "stream": stream,
        "stream_url": stream_url,
        "event": event,
        "replay": replay(store, aggregate_id, sequence, mask=mask),
        "previous": sequence - 1 if sequence > 1 else None,
        "next": sequence + 1 if sequence < stream.last_sequence else None,
    }
    return render(request, "patterns_admin/streams/event_detail.html", context)
