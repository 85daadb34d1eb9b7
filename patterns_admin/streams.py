"""Selectors of the event-stream pages: one stream, a page of its events, its snapshots, and
the parsing of the replay and live-tail parameters (with the messages shown for bad input)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import Http404, QueryDict

#: Events shown per page of a stream, and at most per live-tail poll.
EVENTS_PER_PAGE = 100
#: Snapshots listed on a stream's page (newest first).
SNAPSHOT_LIMIT = 20


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


def get_stream(aggregate_id: str) -> Any:
    """The ``EventStream`` row of ``aggregate_id`` or :class:`Http404`."""
    from toolkit.models import EventStream  # the toolkit app must be ready

    stream = EventStream.objects.filter(aggregate_id=aggregate_id).first()
    if stream is None:
        raise Http404(f"No event stream with aggregate id {aggregate_id!r}")
    return stream


def event_rows(
    aggregate_id: str, *, after: int = 0, limit: int = EVENTS_PER_PAGE
) -> list[EventRow]:
    """Events of the stream with a sequence above ``after``, oldest first (one query)."""
    from toolkit.models import DomainEvent

    events = DomainEvent.objects.filter(aggregate_id=aggregate_id, sequence__gt=after).order_by(
        "sequence"
    )[:limit]
    return [
        EventRow(
            sequence=e.sequence,
            event_type=e.event_type,
            schema_version=e.schema_version,
            created_at=e.created_at,
            user_id=e.user_id,
            correlation_id=e.correlation_id,
            causation_id=e.causation_id,
            metadata=pretty_json(e.metadata),
            payload=pretty_json(e.payload),
        )
        for e in events
    ]


def snapshot_rows(aggregate_id: str, *, limit: int = SNAPSHOT_LIMIT) -> list[dict[str, Any]]:
    """The stream's newest snapshots: sequence, time and pretty state (one query)."""
    from toolkit.models import Snapshot

    rows = Snapshot.objects.filter(aggregate_id=aggregate_id).order_by("-sequence")[:limit]
    return [
        {"sequence": s.sequence, "created_at": s.created_at, "state": pretty_json(s.state)}
        for s in rows
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


def _pairs(mapping: Any) -> list[tuple[str, str]]:
    return [(str(key), pretty_json(value)) for key, value in sorted(dict(mapping or {}).items())]


def _changed(mapping: Any) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for key, value in sorted(dict(mapping or {}).items()):
        if isinstance(value, dict) and {"before", "after"} <= set(value):
            old, new = value["before"], value["after"]
        elif isinstance(value, list | tuple) and len(value) == 2:
            old, new = value
        else:
            old, new = None, value
        rows.append((str(key), pretty_json(old), pretty_json(new)))
    return rows


def replay(aggregate_id: str, sequence: int) -> Replay:
    """Fold the stream up to ``sequence`` with the toolkit's replay helpers (reads only)."""
    from toolkit.eventsourcing.replay import change_at, state_at

    state = state_at(aggregate_id, sequence)
    change = change_at(aggregate_id, sequence)
    events = event_rows(aggregate_id, after=sequence - 1, limit=1)
    return Replay(
        sequence=sequence,
        event=events[0] if events else None,
        state=pretty_json(state),
        before=pretty_json(change.before),
        after=pretty_json(change.after),
        added=_pairs(change.added),
        removed=_pairs(change.removed),
        changed=_changed(change.changed),
    )
