"""The all-events feed (every stream's events, newest first, filtered) and the correlation
view (one request's commands and events as a tree). Both read; both need ``view_streams``,
and the correlation view shows commands only to users who also hold ``view_commands``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from patterns_admin.feed import (
    TREE_LIMIT,
    EventFeedFilterForm,
    EventFeedTable,
    FeedRow,
    correlation_tree,
    correlation_url,
    event_type_suggestions,
    parse_position,
    usernames,
)
from patterns_admin.http import HtmxHttpRequest, nul_errors, render_page
from patterns_admin.masking import masker_for
from patterns_admin.pagination import KeysetPage
from patterns_admin.permissions import has_panel_permission, permission_required_403
from patterns_admin.querystring import canonical_url_view, filter_change_url, kept_on_filter
from patterns_admin.streams import panel_store
from patterns_admin.tables import DEFAULT_PER_PAGE, table_errors
from toolkit.core.exceptions import ValidationError


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_streams")
@canonical_url_view
def event_feed(request: HtmxHttpRequest) -> HttpResponse:
    """Every event of every stream, newest first, filtered by event type, aggregate type,
    correlation id and time; keyset pages on the global position (``feed_page``)."""
    store = panel_store()
    form = EventFeedFilterForm(request.GET or None, store=store)
    errors = table_errors(request, EventFeedTable, cursors=False)
    if request.GET.get("page"):
        errors.append("page: the feed is paged with the Older / Newer links (before= / after=).")
    before, before_error = parse_position(request.GET, "before")
    after, after_error = parse_position(request.GET, "after")
    errors += [error for error in (before_error, after_error) if error]
    valid = form.is_valid() or not form.is_bound
    mask = masker_for(request)
    rows: list[FeedRow] = []
    page = None
    per_page = DEFAULT_PER_PAGE
    filters = form.feed_filters() if valid else {}
    if valid and not errors:
        per_page = int(request.GET.get("per_page") or DEFAULT_PER_PAGE)
        try:
            page = store.feed_page(**filters, before=before, after=after, limit=per_page)
        except ValidationError as exc:  # a value the store refuses (NUL, too long, ...)
            errors.append(exc.message)
        else:
            rows = [FeedRow.of(event, mask) for event in page.events]
    table = EventFeedTable(rows)
    if page is not None:
        table.keyset = KeysetPage.of_store(rows, per_page, page.older_cursor, page.newer_cursor)
    correlation = filters.get("correlation_id") or ""
    return render_page(
        request,
        "patterns_admin/feed/list.html",
        {
            "form": form,
            "filter_hidden": kept_on_filter(request.GET),
            "suggestions": {"event_type": event_type_suggestions()},
            "table": table,
            "errors": errors,
            "correlation": correlation,
            "correlation_url": correlation_url(correlation) if correlation else "",
            "unfiltered_url": filter_change_url(request, correlation_id=None),
            "title": "Event feed",
        },
        failed=bool(errors) or not valid,
    )


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_streams")
def correlation_view(request: HtmxHttpRequest, correlation_id: str) -> HttpResponse:
    """One correlation id's commands and events, nested by causation, in time order."""
    from toolkit.models import CommandAuditLog

    errors = nul_errors(correlation_id=correlation_id)
    if len(correlation_id) > 64:
        errors.append(f"correlation_id: {len(correlation_id)} characters; the longest is 64.")
    mask = masker_for(request)
    show_commands = has_panel_permission(request, "view_commands")
    events = []
    commands = []
    truncated = False
    if not errors:
        store = panel_store()
        try:
            # The oldest ones: the feed's page just above position 0, newest first.
            events = store.feed(correlation_id=correlation_id, after=0, limit=TREE_LIMIT + 1)
            events.reverse()
        except ValidationError as exc:
            errors.append(exc.message)
        if show_commands:
            commands = list(
                CommandAuditLog.objects.select_related("user")
                .filter(correlation_id=correlation_id)
                .order_by("created_at", "id")[: TREE_LIMIT + 1]
            )
        truncated = len(events) > TREE_LIMIT or len(commands) > TREE_LIMIT
        events, commands = events[:TREE_LIMIT], commands[:TREE_LIMIT]
    tree = correlation_tree(
        events, commands, mask=mask, truncated=truncated, names=usernames(events)
    )
    context = {
        "title": f"Correlation {correlation_id}",
        "correlation_id": correlation_id,
        "tree": tree,
        "errors": errors,
        "show_commands": show_commands,
        "limit": TREE_LIMIT,
        "feed_url": (
            f"{_feed_path()}?{urlencode({'correlation_id': correlation_id})}"
            if not errors
            else _feed_path()
        ),
    }
    status = 400 if errors else 200
    return render(request, "patterns_admin/feed/correlation.html", context, status=status)


def _feed_path() -> str:
    return reverse("patterns_admin:event-feed")
