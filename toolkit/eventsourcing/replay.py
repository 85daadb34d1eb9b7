"""Time travel for operators: an aggregate's state at sequence N, the change made by event N,
and the replay log (the panel's stream pages use these).

State comes from the registered :class:`~toolkit.eventsourcing.Aggregate` class of the
stream's type (its :meth:`~toolkit.eventsourcing.Aggregate.snapshot_state`); for types without
one, the payloads are folded in order, later keys overriding earlier ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.eventsourcing.config import store_or_default
from toolkit.registry import aggregates

if TYPE_CHECKING:
    from toolkit.eventsourcing.aggregate import Aggregate
    from toolkit.eventsourcing.event_store import EventStore
    from toolkit.eventsourcing.store import StoredEvent


@dataclass(frozen=True)
class Change:
    """What event N changed: the state before and after, and the keys added, removed and
    changed (``changed`` maps a key to ``(before, after)``)."""

    before: dict[str, Any]
    after: dict[str, Any]
    added: dict[str, Any] = field(default_factory=dict)
    removed: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def state_at(
    aggregate_id: str, sequence: int, *, store: EventStore | None = None
) -> dict[str, Any]:
    """The aggregate's state after event ``sequence`` (``{}`` before the first event or for
    an unknown aggregate)."""
    if sequence <= 0:
        return {}
    return _fold(aggregate_id, store_or_default(store).load(aggregate_id, 0, limit=sequence))


def change_at(aggregate_id: str, sequence: int, *, store: EventStore | None = None) -> Change:
    """The difference between the state after event ``sequence - 1`` and after ``sequence``."""
    events = store_or_default(store).load(aggregate_id, 0, limit=sequence) if sequence > 0 else []
    before = _fold(aggregate_id, events[: sequence - 1])
    after = _fold(aggregate_id, events)
    added = {k: v for k, v in after.items() if k not in before}
    removed = {k: v for k, v in before.items() if k not in after}
    changed = {k: (before[k], v) for k, v in after.items() if k in before and before[k] != v}
    return Change(before=before, after=after, added=added, removed=removed, changed=changed)


def _fold(aggregate_id: str, events: Sequence[StoredEvent]) -> dict[str, Any]:
    """The state after ``events`` (the stream's first events, in order): through the
    registered aggregate class of their type, else the payloads merged in order."""
    if not events:
        return {}
    aggregate_type = events[0].aggregate_type
    if aggregate_type in aggregates:
        aggregate: Aggregate = aggregates.get(aggregate_type)(aggregate_id)
        for event in events:
            aggregate.apply_stored(event.event_type, event.payload, event.sequence)
        return aggregate.snapshot_state()
    state: dict[str, Any] = {}
    for event in events:
        state.update(event.payload)
    return state


def replay_log(aggregate_id: str, *, store: EventStore | None = None) -> str:
    """``seq=1 type=OrderCreated`` per event, one per line (empty for an unknown aggregate)."""
    return store_or_default(store).replay_log(aggregate_id)
