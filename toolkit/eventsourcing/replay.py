"""Time travel for operators: an aggregate's state at sequence N, the change made by event N,
and the replay log (the panel's stream pages use these).

State comes from the registered :class:`~toolkit.eventsourcing.Aggregate` class of the
stream's type (its :meth:`~toolkit.eventsourcing.Aggregate.snapshot_state`); for types without
one, the payloads are folded in order, later keys overriding earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.registry import aggregates

if TYPE_CHECKING:
    from toolkit.patterns.event_store import EventStore

_MISSING = object()


@dataclass(frozen=True)
class Change:
    """What event N changed: the state before and after, and the keys added, removed and
    changed (``changed`` maps a key to ``(before, after)``)."""

    before: dict[str, Any]
    after: dict[str, Any]
    added: dict[str, Any] = field(default_factory=dict)
    removed: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def _store(store: EventStore | None) -> EventStore:
    if store is not None:
        return store
    from toolkit.patterns.event_store import EventStore

    return EventStore()


def state_at(
    aggregate_id: str, sequence: int, *, store: EventStore | None = None
) -> dict[str, Any]:
    """The aggregate's state after event ``sequence`` (``{}`` before the first event or for
    an unknown aggregate)."""
    store = _store(store)
    if sequence <= 0:
        return {}
    events = store.load(aggregate_id, 0, limit=sequence)
    if not events:
        return {}
    aggregate_type = events[0].aggregate_type
    if aggregate_type in aggregates:
        from toolkit.eventsourcing.repository import AggregateRepository

        aggregate = AggregateRepository(aggregates.get(aggregate_type), store).get(
            aggregate_id, version=min(sequence, events[-1].sequence)
        )
        return aggregate.snapshot_state() if aggregate is not None else {}
    state: dict[str, Any] = {}
    for event in events:
        state.update(event.payload)
    return state


def change_at(aggregate_id: str, sequence: int, *, store: EventStore | None = None) -> Change:
    """The difference between the state after event ``sequence - 1`` and after ``sequence``."""
    store = _store(store)
    before = state_at(aggregate_id, sequence - 1, store=store)
    after = state_at(aggregate_id, sequence, store=store)
    added = {k: v for k, v in after.items() if k not in before}
    removed = {k: v for k, v in before.items() if k not in after}
    changed = {k: (before[k], v) for k, v in after.items() if k in before and before[k] != v}
    return Change(before=before, after=after, added=added, removed=removed, changed=changed)


def replay_log(aggregate_id: str, *, store: EventStore | None = None) -> str:
    """``seq=1 type=OrderCreated`` per event, one per line (empty for an unknown aggregate)."""
    return _store(store).replay_log(aggregate_id)
