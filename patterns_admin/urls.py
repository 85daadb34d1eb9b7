"""URLs of the control panel, namespace ``patterns_admin``."""

from __future__ import annotations

from django.urls import path

from patterns_admin.views import (
    audit,
    commands,
    cqrs,
    diagrams,
    feed,
    history,
    home,
    plugins,
    projections,
    streams,
    transitions,
)

app_name = "patterns_admin"

urlpatterns = [
    path("", home.index, name="index"),
    path("audit/", audit.audit_list, name="audit-list"),
    path("commands/", commands.command_list, name="command-list"),
    path("commands/<int:pk>/", history.command_detail, name="command-detail"),
    path(
        "objects/<str:app_label>/<str:model_name>/<str:pk>/history/",
        history.object_history_view,
        name="object-history",
    ),
    path("users/<str:username>/activity/", history.user_activity_view, name="user-activity"),
    path(
        "commands/<int:pk>/undo/confirm/",
        commands.command_undo_confirm,
        name="command-undo-confirm",
    ),
    path("commands/<int:pk>/undo/", commands.command_undo, name="command-undo"),
    path("plugins/", plugins.plugin_list, name="plugin-list"),
    path("plugins/<path:name>/toggle/", plugins.plugin_toggle, name="plugin-toggle"),
    path("streams/", streams.stream_list, name="stream-list"),
    path("events/", feed.event_feed, name="event-feed"),
    path("correlations/<path:correlation_id>/", feed.correlation_view, name="correlation"),
    # Before stream-detail: its <path:> would take "…/events/3" as part of the id.
    path(
        "streams/<path:aggregate_id>/events/<int:sequence>/",
        streams.event_detail,
        name="event-detail",
    ),
    path("streams/<path:aggregate_id>/", streams.stream_detail, name="stream-detail"),
    path(
        "objects/<str:app_label>/<str:model_name>/",
        transitions.object_list,
        name="object-list",
    ),
    path(
        "objects/<str:app_label>/<str:model_name>/bulk/",
        transitions.bulk_transition_preview,
        name="bulk-transition-preview",
    ),
    path(
        "objects/<str:app_label>/<str:model_name>/bulk/run/",
        transitions.bulk_transition_run,
        name="bulk-transition-run",
    ),
    path(
        "transitions/bulk/<int:pk>/",
        transitions.bulk_transition_report,
        name="bulk-transition-report",
    ),
    path(
        "objects/<str:app_label>/<str:model_name>/<str:pk>/transitions/",
        transitions.object_transitions,
        name="object-transitions",
    ),
    path(
        "objects/<str:app_label>/<str:model_name>/<str:pk>/transitions/trigger/",
        transitions.object_transition_trigger,
        name="object-transition-trigger",
    ),
    path("diagrams/", diagrams.diagram_list, name="diagram-list"),
    path("diagrams/<str:name>/", diagrams.diagram_detail, name="diagram-detail"),
    path("projections/", projections.projection_list, name="projection-list"),
    path(
        "projections/<str:name>/rebuild/",
        projections.projection_rebuild,
        name="projection-rebuild",
    ),
    path("projections/<str:name>/", projections.projection_detail, name="projection-detail"),
    path("projections/<str:name>/pause/", projections.projection_pause, name="projection-pause"),
    path("projections/<str:name>/rewind/", projections.projection_rewind, name="projection-rewind"),
    path(
        "projections/<str:name>/dead-letters/<int:pk>/<str:action>/",
        projections.dead_letter_action,
        name="projection-dead-letter",
    ),
    path("cqrs/", cqrs.cqrs_list, name="cqrs-list"),
    path("cqrs/resync/", cqrs.cqrs_resync, name="cqrs-resync"),
    path("cqrs/replay/", cqrs.cqrs_replay, name="cqrs-replay"),
]
