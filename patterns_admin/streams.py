"""Selectors of the event-stream pages: one stream, a page of its events, its snapshots, and
the parsing of the replay and live-tail parameters (with the messages shown for bad input).

Everything is read through the event store's public API (:func:`panel_store`), never from
its tables, so the pages work on every backend (``event_store_backend`` = django, redis or
memory).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, QueryDict

from patterns_admin.masking import MASK, Masker
from toolkit.core.exceptions import ValidationError
from toolkit.eventsourcing.event_store import EventStore
from toolkit.eventsourcing.store import StoredEvent, StreamInfo

#: Events shown per page of a stream, and at most per live-tail poll.
EVENTS_PER_PAGE = 100
#: Snapshots listed on a stream's page (newest first).
SNAPSHOT_LIMIT = 20


def _unchanged(value: Any) -> Any:
    return value


def pretty_json(value: Any) -> str:
    """``value`` as indented, key-sorted JSON text (escaped later by the template)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class EventRow:
    """One event as the stream page shows it."""

    sequence: int
    event_type: str
    schema_version: int
    created_at: Any
    user_id: str
    correlation_id: str
    causation_id: str
    metadata: str
    payload: str


def panel_store() -> EventStore:
    """The event store the panel reads: the one configured in ``TOOLKIT`` settings."""
    return EventStore()


def get_stream(store: EventStore, aggregate_id: str) -> StreamInfo:
    """The listing entry of ``aggregate_id`` or :class:`Http404` (also for an id no store
    could hold, such as one with NUL: no such stream exists)."""
    try:
        stream = store.stream(aggregate_id)
    except ValidationError:
        stream = None
    if stream is None:
        raise Http404(f"No event stream with aggregate id {aggregate_id!r}")
    return stream


def _row(event: StoredEvent, mask: Masker) -> EventRow:
    return EventRow(
        sequence=event.sequence,
        event_type=event.event_type,
        schema_version=event.schema_version,
        created_at=event.timestamp,
        user_id=event.user_id,
        correlation_id=event.correlation_id,
        causation_id=event.causation_id,
        metadata=pretty_json(mask(event.metadata)),
        payload=pretty_json(mask(event.payload)),
    )


def event_rows(
    store: EventStore,
    aggregate_id: str,
    *,
    after: int = 0,
    limit: int = EVENTS_PER_PAGE,
    mask: Masker = _unchanged,
) -> list[EventRow]:
    """Events of the stream with a sequence above ``after``, oldest first (one read).

    ``mask`` prepares metadata and payload for the reader (:mod:`patterns_admin.masking`)."""
    return [_row(event, mask) for event in store.load(aggregate_id, after, limit=limit)]


def snapshot_rows(
    store: EventStore, aggregate_id: str, *, limit: int = SNAPSHOT_LIMIT, mask: Masker = _unchanged
) -> list[dict[str, Any]]:
    """The stream's newest snapshots: sequence, time and pretty state (one read)."""
    return [
        {"sequence": s.sequence, "created_at": s.created_at, "state": pretty_json(mask(s.state))}
        for s in store.snapshots(aggregate_id, limit=limit)
    ]


def parse_sequence(
    params: QueryDict, name: str, *, last: int, minimum: int = 1
) -> tuple[int | None, str | None]:
    """Read the sequence ``params[name]`` and check it lies in ``minimum..last``.

    Returns ``(value, None)``, ``(None, None)`` when absent, or ``(None, message)`` naming the
    bad value and the valid range.
    """
    raw = params.get(name, "").strip()
    if not raw:
        return None, None
    try:
        value = int(raw)
    except ValueError:
        return (
            None,
            f"{name}: {raw!r} is not a whole number; choose a sequence from {minimum} to {last}.",
        )
    if not minimum <= value <= last:
        return None, f"{name}: {value} is out of range; choose a sequence from {minimum} to {last}."
    return value, None


@dataclass(frozen=True)
class Replay:
    """The folded state at ``sequence`` and what the event at ``sequence`` changed."""

    sequence: int
    event: EventRow | None
    state: str
    before: str
    after: str
    added: list[tuple[str, str]]
    removed: list[tuple[str, str]]
    changed: list[tuple[str, str, str]]
    #: What the event changed, field by field at any depth (:func:`nested_diff`).
    diff: list[DiffRow] = field(default_factory=list)


def _pairs(mapping: Any) -> list[tuple[str, str]]:
    return [(str(key), pretty_json(value)) for key, value in sorted(dict(mapping or {}).items())]


def _changed(mapping: Any) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for key, value in sorted(dict(mapping or {}).items()):
        if isinstance(value, dict) and {"before", "after"} <= set(value):
            old, new = value["before"], value["after"]
        elif isinstance(value, list | tuple) and len(value) == 2:
            old, new = value
        elif value == MASK:  # a sensitive field: both sides are hidden
            old, new = MASK, MASK
        else:
            old, new = None, value
        rows.append((str(key), pretty_json(old), pretty_json(new)))
    return rows


def replay(
    store: EventStore, aggregate_id: str, sequence: int, *, mask: Masker = _unchanged
) -> Replay:
    """Fold the stream up to ``sequence`` with the toolkit's replay helpers (reads only)."""
    from toolkit.eventsourcing.replay import change_at, state_at

    state = state_at(aggregate_id, sequence, store=store)
    change = change_at(aggregate_id, sequence, store=store)
    events = event_rows(store, aggregate_id, after=sequence - 1, limit=1, mask=mask)
    return Replay(
        sequence=sequence,
        event=events[0] if events else None,
        state=pretty_json(mask(state)),
        before=pretty_json(mask(change.before)),
        after=pretty_json(mask(change.after)),
        added=_pairs(mask(change.added)),
        removed=_pairs(mask(change.removed)),
        changed=_changed(mask(dict(change.changed or {}))),
        diff=nested_diff(mask(change.before), mask(change.after)),
    )


@dataclass(frozen=True)
class DiffRow:
    """One leaf that differs between two states: its path (``items.KB-101.quantity``),
    ``added`` / ``removed`` / ``changed``, and both values as pretty JSON."""

    path: str
    kind: str
    before: str
    after: str


def nested_diff(before: Any, after: Any, path: str = "") -> list[DiffRow]:
    """Field by field, at any depth: dicts by key, lists by index, anything else by value."""
    if isinstance(before, dict) and isinstance(after, dict):
        rows: list[DiffRow] = []
        for key in sorted(set(before) | set(after), key=str):
            here = f"{path}.{key}" if path else str(key)
            if key not in before:
                rows.append(DiffRow(here, "added", "", pretty_json(after[key])))
            elif key not in after:
                rows.append(DiffRow(here, "removed", pretty_json(before[key]), ""))
            else:
                rows.extend(nested_diff(before[key], after[key], here))
        return rows
    if isinstance(before, list) and isinstance(after, list):
        rows = []
        for index in range(max(len(before), len(after))):
            here = f"{path}[{index}]"
            if index >= len(before):
                rows.append(DiffRow(here, "added", "", pretty_json(after[index])))
            elif index >= len(after):
                rows.append(DiffRow(here, "removed", pretty_json(before[index]), ""))
            else:
                rows.extend(nested_diff(before[index], after[index], here))
        return rows
    if before == after:
        return []
    return [DiffRow(path or "(state)", "changed", pretty_json(before), pretty_json(after))]


@dataclass(frozen=True)
class Comparison:
    """The nested diff between the states after two sequences of one stream."""

    first: int
    second: int
    rows: list[DiffRow]


def compare(
    store: EventStore, aggregate_id: str, first: int, second: int, *, mask: Masker = _unchanged
) -> Comparison:
    """Fold the stream to ``first`` and to ``second`` (toolkit replay, reads only) and diff
    the two states field by field (sensitive fields masked on both sides)."""
    from toolkit.eventsourcing.replay import state_at

    before = mask(state_at(aggregate_id, first, store=store))
    after = mask(state_at(aggregate_id, second, store=store))
    return Comparison(first, second, nested_diff(before, after))


def event_at(
    store: EventStore, aggregate_id: str, sequence: int, *, mask: Masker = _unchanged
) -> EventRow:
    """The event ``sequence`` of the stream (one read), or :class:`Http404`."""
    if sequence < 1:
        raise Http404(f"No event {sequence} in stream {aggregate_id!r}: sequences start at 1")
    events = event_rows(store, aggregate_id, after=sequence - 1, limit=1, mask=mask)
    if not events or events[0].sequence != sequence:
        raise Http404(f"No event {sequence} in stream {aggregate_id!r}")
    return events[0]
