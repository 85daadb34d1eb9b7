"""The all-events feed and the correlation view: their filter form, table and the tree of one
request's commands and events.

The feed reads through the event store's public API
(:meth:`~toolkit.eventsourcing.event_store.EventStore.feed_page`), never its tables, so it works
on every backend (``event_store_backend`` = django, redis or memory). Its pages are keyset pages
on the events' global positions (``?before=`` / ``?after=``), never ``OFFSET``.

The correlation view gathers one correlation id's events (``EventStore.feed``) and commands
(``CommandAuditLog.correlation_id``) and nests them by causation (:func:`correlation_tree`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import quote

import django_tables2 as tables
from django import forms
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS

from patterns_admin.masking import Masker
from patterns_admin.streams import pretty_json
from patterns_admin.tables import HtmxTable
from patterns_admin.tables_streams import aggregate_type_choices
from toolkit.eventsourcing.event_store import EventStore
from toolkit.eventsourcing.store import StoredEvent

#: The most events and commands the correlation view gathers (each).
TREE_LIMIT = 500
#: Characters of a payload shown in a feed row (the permalink shows all of it).
PREVIEW_LENGTH = 120
#: The largest position a cursor may name (a BIGINT).
_MAX_POSITION = 2**63 - 1
_TIME_HELP = "YYYY-MM-DD HH:MM[:SS], in {zone} unless an offset is given"


def event_type_suggestions() -> list[str]:
    """The event types of the registered aggregates, sorted (offered, never required: events
    appended without an aggregate class have types of their own)."""
    from toolkit.registry import aggregates

    names: set[str] = set()
    for name in aggregates:
        names.update(getattr(aggregates.get(name), "event_classes", {}))
    return sorted(names)


class _TimeField(forms.DateTimeField):
    """A moment typed as ISO 8601 (``2026-12-04T15:30``, with seconds or an offset), read in
    the current time zone when it has no offset."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"})

    def __init__(self, **kwargs: Any) -> None:
        zone = timezone.get_current_timezone_name()
        super().__init__(
            required=False,
            error_messages={"invalid": f"not a date and time; use {_TIME_HELP.format(zone=zone)}."},
            **kwargs,
        )


class EventFeedFilterForm(forms.Form):
    """Filter the feed by event type, aggregate type, correlation id and time range.

    An unknown aggregate type or a malformed time is a form error (the page answers 400 with
    the message), not an empty list. Event types are open-ended (any text an event was
    appended with), so an unknown one is an empty feed; the registered ones are suggested.
    """

    event_type = forms.CharField(label="Event type", required=False, max_length=255)
    aggregate_type = forms.ChoiceField(label="Aggregate type", required=False)
    correlation_id = forms.CharField(label="Correlation id", required=False, max_length=64)
    since = _TimeField(label="From")
    until = _TimeField(label="Before")

    def __init__(self, *args: Any, store: EventStore, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["aggregate_type"])
        field.choices = [("", "any"), *aggregate_type_choices(store)]
        self.fields["event_type"].widget.attrs["list"] = "suggest-event_type"
        zone = timezone.get_current_timezone_name()
        for name in ("since", "until"):
            self.fields[name].help_text = _TIME_HELP.format(zone=zone)
            self.fields[name].widget.attrs["title"] = _TIME_HELP.format(zone=zone)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since is not None and until is not None and until <= since:
            self.add_error("until", "must be later than From.")
        return data

    def feed_filters(self) -> dict[str, Any]:
        """The cleaned values as :meth:`EventStore.feed_page` keyword arguments."""
        data = self.cleaned_data if self.is_bound else {}
        return {
            "event_type": data.get("event_type") or None,
            "aggregate_type": data.get("aggregate_type") or None,
            "correlation_id": data.get("correlation_id") or None,
            "since": data.get("since"),
            "until": data.get("until"),
        }


def parse_position(params: QueryDict, name: str) -> tuple[int | None, str | None]:
    """The feed cursor ``params[name]``: ``(position, None)``, ``(None, None)`` when absent, or
    ``(None, message)`` for anything but a positive whole number."""
    raw = params.get(name, "")
    if not raw:
        return None, None
    if raw.isdigit() and 1 <= int(raw) <= _MAX_POSITION:
        return int(raw), None
    return None, (
        f"{name}: {raw!r} is not a feed position; page with the Older / Newer links "
        "(a position is a whole number from 1)."
    )


_PLACEHOLDER = "\x01"
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"


def _split(name: str, *args: Any) -> tuple[str, str]:
    """The reversed URL of ``name`` split around its first argument (a ``<path:>``)."""
    url = reverse(f"patterns_admin:{name}", args=[_PLACEHOLDER, *args])
    before, _, after = url.partition(quote(_PLACEHOLDER, safe=_URL_SAFE))
    return before, after


class Links:
    """The URLs of a page's rows, as ``reverse`` builds them, from four ``reverse`` calls per
    page instead of up to three per row (``reverse`` costs ~0.15 ms: a third of a feed page's time
    went there)."""

    def __init__(self) -> None:
        self._stream = _split("stream-detail")
        before, after = _split("event-detail", 1)
        self._event = (before, after.removesuffix("1/"))
        self._correlation = _split("correlation")
        self._command = reverse("patterns_admin:command-detail", args=[1]).removesuffix("1/")

    @staticmethod
    def _quoted(value: str) -> str:
        return quote(value, safe=_URL_SAFE)  # as reverse() quotes a path argument

    def stream(self, aggregate_id: str) -> str:
        """The stream's page (``patterns_admin:stream-detail``)."""
        return f"{self._stream[0]}{self._quoted(aggregate_id)}{self._stream[1]}"

    def event(self, aggregate_id: str, sequence: int) -> str:
        """The event's permalink (``patterns_admin:event-detail``)."""
        return f"{self._event[0]}{self._quoted(aggregate_id)}{self._event[1]}{int(sequence)}/"

    def correlation(self, correlation_id: str) -> str:
        """The correlation view (``patterns_admin:correlation``)."""
        return f"{self._correlation[0]}{self._quoted(correlation_id)}{self._correlation[1]}"

    def command(self, pk: int) -> str:
        """The audit row's page (``patterns_admin:command-detail``)."""
        return f"{self._command}{int(pk)}/"


def correlation_url(correlation_id: str) -> str:
    return reverse("patterns_admin:correlation", args=[correlation_id])


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


@dataclass
class FeedRow:
    """One event of the feed, with the links of its row."""

    position: int
    event_type: str
    aggregate_type: str
    aggregate_id: str
    sequence: int
    created_at: datetime
    correlation_id: str
    user_id: str
    preview: str
    when: str = ""
    permalink: str = ""
    stream_url: str = ""
    correlation_url: str = ""

    @classmethod
    def of(cls, event: StoredEvent, mask: Masker) -> FeedRow:
        return cls(
            event.position,
            event.event_type,
            event.aggregate_type,
            event.aggregate_id,
            event.sequence,
            event.timestamp,
            event.correlation_id,
            event.user_id,
            _preview(mask(event.payload)),
        )


class EventFeedTable(HtmxTable):
    """Every event of every stream, newest first: time, type, stream and sequence (the
    permalink), correlation id (the tree of its request) and a payload preview."""

    created_at = tables.DateTimeColumn(verbose_name="When", format="Y-m-d H:i:s T")
    event_type = tables.Column(verbose_name="Event type")
    aggregate_id = tables.Column(verbose_name="Stream")
    sequence = tables.Column(verbose_name="Event", attrs={"td": {"class": "num"}})
    correlation_id = tables.Column(verbose_name="Correlation id")
    preview = tables.Column(verbose_name="Payload")

    class Meta(HtmxTable.Meta):
        empty_text = "No event matches."
        orderable = False

    row_template_name = "patterns_admin/feed/feed_rows.html"

    def prepare_records(self, records: list[Any]) -> None:
        links = Links()
        for record in records:
            # As the |date:"Y-m-d H:i:s T" filter shows it, a fifth of its cost.
            local = timezone.localtime(record.created_at)
            record.when = f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"
            record.stream_url = links.stream(record.aggregate_id)
            record.permalink = links.event(record.aggregate_id, record.sequence)
            if record.correlation_id:
                record.correlation_url = links.correlation(record.correlation_id)


# -- the correlation tree -----------------------------------------------------------------


@dataclass
class Node:
    """One command or event of a correlation, with what it caused (``children``)."""

    kind: str  # "event" or "command"
    key: str
    started_at: datetime
    title: str
    url: str
    detail: str
    success: bool = True
    subtitle: str = ""
    subtitle_url: str = ""
    user: str = ""
    note: str = ""
    #: Breaks ties of ``started_at``: an event's global position, a command row's id.
    rank: int = 0
    children: list[Node] = field(default_factory=list)


@dataclass(frozen=True)
class CorrelationTree:
    """The nodes without a parent (in time order), and how many events and commands."""

    roots: list[Node]
    events: int
    commands: int
    truncated: bool

    @property
    def started_at(self) -> datetime | None:
        """When the first command or event of the correlation began."""
        return self.roots[0].started_at if self.roots else None


def _event_node(event: StoredEvent, mask: Masker, links: Links) -> Node:
    return Node(
        kind="event",
        key=f"event:{event.event_id}",
        started_at=event.timestamp,
        title=event.event_type,
        url=links.event(event.aggregate_id, event.sequence),
        detail=pretty_json(mask(event.payload)),
        subtitle=f"{event.aggregate_type} {event.aggregate_id} #{event.sequence}",
        subtitle_url=links.stream(event.aggregate_id),
        user=event.user_id,
        rank=event.position,
    )


def _command_start(row: Any) -> datetime:
    """When the command began: its row is written as it ends, ``duration_ms`` after."""
    return cast(datetime, row.created_at) - timedelta(milliseconds=row.duration_ms or 0)


def _command_node(row: Any, mask: Masker, links: Links) -> Node:
    return Node(
        kind="command",
        key=f"command:{row.pk}",
        started_at=_command_start(row),
        title=f"{row.kind} {row.command}",
        url=links.command(row.pk),
        detail=pretty_json(mask(row.params)),
        success=bool(row.success),
        subtitle=f"#{row.pk}" + ("" if row.success else f" failed: {row.error}"),
        user=row.user.get_username() if row.user_id and row.user else "",
        rank=int(row.pk),
    )


def usernames(events: Sequence[StoredEvent]) -> dict[str, str]:
    """The usernames of the events' ``user_id`` values that are user primary keys (one
    query; none when no event names a user)."""
    from django.contrib.auth import get_user_model

    ids = {event.user_id for event in events if event.user_id.isdigit()}
    if not ids:
        return {}
    model = get_user_model()
    rows = model._default_manager.filter(pk__in=[int(pk) for pk in ids]).values_list(
        "pk", model.USERNAME_FIELD
    )
    return {str(pk): str(name) for pk, name in rows}


def correlation_tree(
    events: Sequence[StoredEvent],
    commands: Iterable[Any],
    *,
    mask: Masker,
    truncated: bool = False,
    names: dict[str, str] | None = None,
) -> CorrelationTree:
    """Nest one correlation's ``events`` and ``commands`` (``CommandAuditLog`` rows) by
    causation, everything in time order.

    A node's parent is, in this order: the event whose ``event_id`` is its ``causation_id``
    (events, and commands run by an event handler); for an undo, the execute row it undoes
    (``undo_of``); for an event, the command that was
    running when it was appended (between the command's start, ``created_at`` minus
    ``duration_ms``, and its row's ``created_at``; the innermost when commands nest). The
    audit writes ``created_at`` as the wall-clock start plus the duration
    (:mod:`toolkit.patterns.command_audit`), so the start is exact and a successful command's
    events, appended inside its transaction, fall in its window. Anything else is a root.
    """
    rows = list(commands)
    links = Links()
    nodes: dict[str, Node] = {}
    parents: dict[str, str] = {}
    by_id = {str(event.event_id): event for event in events}
    for row in rows:
        node = _command_node(row, mask, links)
        nodes[node.key] = node
        if row.causation_id and row.causation_id in by_id:
            parents[node.key] = f"event:{row.causation_id}"
            continue
        if row.causation_id:
            node.note = f"caused by {row.causation_id}"
        if row.undo_of_id is not None and f"command:{row.undo_of_id}" in nodes:
            parents[node.key] = f"command:{row.undo_of_id}"
    windows = sorted(
        ((_command_start(row), row.created_at, f"command:{row.pk}") for row in rows if row.success),
        reverse=True,  # the latest start first: the innermost command of nested ones
    )
    for event in events:
        node = _event_node(event, mask, links)
        if names and node.user in names:
            node.user = names[node.user]
        nodes[node.key] = node
        cause = event.causation_id
        if cause and cause in by_id and by_id[cause] is not event:
            parents[node.key] = f"event:{cause}"
            continue
        if cause:
            node.note = f"caused by {cause}"
        for start, end, key in windows:
            if start <= event.timestamp <= end:
                parents[node.key] = key
                break
    roots: list[Node] = []
    for key, node in nodes.items():
        parent = parents.get(key)
        if parent is not None and _no_cycle(key, parent, parents):
            nodes[parent].children.append(node)
        else:
            roots.append(node)
    for node in nodes.values():
        node.children.sort(key=_order)
    roots.sort(key=_order)
    return CorrelationTree(roots, len(events), len(rows), truncated)


def _order(node: Node) -> tuple[datetime, int, int]:
    # Commands before the events they caused at the same instant; events in stored order.
    return (node.started_at, 0 if node.kind == "command" else 1, node.rank)


def _no_cycle(key: str, parent: str, parents: dict[str, str]) -> bool:
    """Whether following ``parent`` upwards never comes back to ``key`` (causation ids are
    data: a loop must not hide its nodes)."""
    seen = {key}
    step: str | None = parent
    while step is not None:
        if step in seen:
            return False
        seen.add(step)
        step = parents.get(step)
    return True
