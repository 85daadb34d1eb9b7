"""The panel's home page: counts, recent activity, projection health, links to every area."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from patterns_admin.http import HtmxHttpRequest, wants_fragment
from patterns_admin.permissions import has_panel_permission
from patterns_admin.selectors import Count, recent_activity, table_counts


@dataclass(frozen=True)
class Area:
    """A card on the home page: an area of the panel with its figure."""

    title: str
    url: str
    description: str
    count: Count | None = None
    #: The panel permission needed to read the area ("" for any staff user).
    permission: str = ""


def _url(name: str, **kwargs: Any) -> str:
    """The URL of ``name``, or "" when that area is not installed in this project."""
    try:
        return reverse(f"patterns_admin:{name}", kwargs=kwargs or None)
    except NoReverseMatch:
        return ""


def _plugin_count() -> Count | None:
    try:
        from toolkit.patterns.plugin import get_plugin_registry
    except ImportError:
        return None
    return Count(len(get_plugin_registry().list_plugins()), exact=True)


def _projection_statuses() -> list[Any] | None:
    """The projections' statuses, or None when the event-sourcing package has none to offer."""
    try:
        from toolkit.eventsourcing.projections import projection_statuses
    except ImportError:
        return None
    return list(projection_statuses())


def _cqrs_model_count() -> Count | None:
    """Master and replica models registered in this process (no query), None without CQRS."""
    try:
        from toolkit.cqrs.registries import MasterRegistry, ReplicaRegistry
    except ImportError:
        return None
    return Count(len(MasterRegistry.models) + len(ReplicaRegistry.models), exact=True)


def _event_store_counts() -> tuple[Count, Count | None] | None:
    """The Events and Streams figures from the configured event store's API, or None when it
    is the Django backend (whose tables :func:`table_counts` estimates with the others).

    Events: the head position, marked as an estimate (positions may skip numbers); streams:
    the store's capped count (``10000+`` past the cap), None when the backend cannot count
    without reading every stream.
    """
    from patterns_admin.streams import panel_store
    from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend

    store = panel_store()
    if isinstance(store.backend, DjangoEventStoreBackend):
        return None
    events = Count(store.head_position(), exact=False)
    counted = store.count_streams()
    if counted is None:
        return events, None
    (streams,) = counted
    return events, Count(streams.value, exact=streams.exact, lower_bound=not streams.exact)


def _areas(request: HtmxHttpRequest, projections: list[Any] | None) -> list[Area]:
    from toolkit import registry
    from toolkit.models import CommandAuditLog, DomainEvent, EventStream, StateTransitionAudit

    from_store = _event_store_counts()
    streams: Count | None
    if from_store is None:
        transitions, commands, events, streams = table_counts(
            StateTransitionAudit, CommandAuditLog, DomainEvent, EventStream
        )
    else:
        transitions, commands = table_counts(StateTransitionAudit, CommandAuditLog)
        events, streams = from_store
    areas = [
        Area(
            "Transitions",
            _url("audit-list") + "?kind=transitions",
            "State changes, who made them and why",
            transitions,
            permission="view_audit",
        ),
        Area(
            "Commands",
            _url("command-list"),
            "Executed commands; undo the ones that allow it",
            commands,
            permission="view_commands",
        ),
        Area(
            "Events",
            _url("stream-list"),
            "Every domain event in the event store",
            events,
            permission="view_streams",
        ),
        Area(
            "Streams",
            _url("stream-list"),
            "Aggregates: replay to any version",
            streams,
            permission="view_streams",
        ),
        Area("Plugins", _url("plugin-list"), "Enable, disable, see failures", _plugin_count()),
        Area(
            "State machines",
            _url("diagram-list"),
            "Diagrams of every registered machine",
            Count(len(registry.machines), exact=True),
        ),
        Area(
            "Projections",
            _url("projection-list"),
            "Position, lag, rebuilds",
            None if projections is None else Count(len(projections), exact=True),
            permission="view_projections",
        ),
        Area(
            "CQRS",
            _url("cqrs-list"),
            "Replicated models: status, resync, dead letters",
            _cqrs_model_count(),
            permission="view_cqrs",
        ),
    ]
    return [
        area
        for area in areas
        if area.url
        and not area.url.startswith("?")
        and (not area.permission or has_panel_permission(request, area.permission))
    ]


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
def index(request: HtmxHttpRequest) -> HttpResponse:
    """Counts, recent activity, projection health and links to every area of the panel.

    An htmx request (the page polls it) gets only ``#activity``.
    """
    template_name = "patterns_admin/index.html"
    activity = recent_activity(
        transitions=has_panel_permission(request, "view_audit"),
        commands=has_panel_permission(request, "view_commands"),
    )
    context: dict[str, Any] = {"title": "Control panel", "activity": activity}
    if wants_fragment(request):
        return render(request, template_name + "#activity", context)
    may_view_projections = has_panel_permission(request, "view_projections")
    projections = _projection_statuses() if may_view_projections else None
    context["areas"] = _areas(request, projections)
    context["projections"] = projections
    context["may_view_projections"] = may_view_projections
    context["projections_url"] = _url("projection-list")
    return render(request, template_name, context)
