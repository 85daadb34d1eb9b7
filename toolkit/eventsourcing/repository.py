"""Load and save event-sourced aggregates through an :class:`EventStore`.

.. code-block:: python

    repo = AggregateRepository(Todo)
    todo = repo.get("todo-1")            # latest snapshot + later events, or None
    old = repo.get("todo-1", version=3)  # time travel: the state after event 3
    todo.complete()
    repo.save(todo)                      # appends with expected_seq = the loaded version
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from toolkit.core import repository as core
from toolkit.core.exceptions import ValidationError
from toolkit.eventsourcing.aggregate import Aggregate, append_pending
from toolkit.eventsourcing.config import store_or_default
from toolkit.eventsourcing.store import StoredEvent

if TYPE_CHECKING:
    from toolkit.eventsourcing.event_store import EventStore

A = TypeVar("A", bound=Aggregate)


class AggregateRepository(core.Repository[A, str]):
    """Rehydrates ``aggregate_class`` instances and appends their pending events.

    The event-sourcing face of the one repository core
    (:class:`toolkit.core.repository.Repository`): ``add`` is ``save``. ``get`` returns None
    for an aggregate with no events. ``save`` appends with the expected sequence, so a
    concurrent save raises ConcurrencyConflict and writes nothing; when the new version
    crosses a multiple of ``aggregate_class.snapshot_every``, it stores a snapshot.
    """

    def __init__(self, aggregate_class: type[A], store: EventStore | None = None) -> None:
        self.aggregate_class = aggregate_class
        self._store = store

    @property
    def store(self) -> EventStore:
        """The event store (default: ``EventStore()`` from settings)."""
        if self._store is None:
            self._store = store_or_default(None)
        return self._store

    def get(  # type: ignore[override]  # None for an empty stream, as published
        self, aggregate_id: str, *, version: int | None = None
    ) -> A | None:
        """The aggregate at its latest version, or after event ``version``; None when the
        stream has no events (or ``version`` is 0)."""
        if version is not None and (
            not isinstance(version, int) or isinstance(version, bool) or version < 0
        ):
            raise ValidationError(
                f"version must be None or an integer ≥ 0, not {version!r}",
                field="version",
                value=version,
            )
        if version == 0:
            return None
        store = self.store
        aggregate = self.aggregate_class(aggregate_id)
        after = 0
        if self.aggregate_class.snapshot_every:
            snapshot = store.load_snapshot(aggregate_id, max_seq=version)
            if snapshot is not None:
                aggregate.restore_state(snapshot.state)
                aggregate.version = after = snapshot.sequence
        limit = None if version is None else version - after
        events = store.load(aggregate_id, after, limit=limit) if limit != 0 else []
        if not events and after == 0:
            return None
        apply = aggregate.apply_stored
        for event in events:
            apply(event.event_type, event.payload, event.sequence)
        return aggregate

    def save(self, aggregate: A) -> list[StoredEvent]:
        """Append the pending events with ``expected_seq`` = the version they build on
        (:func:`~toolkit.eventsourcing.aggregate.append_pending`)."""
        stored: list[StoredEvent] = append_pending(self.store, aggregate, self.aggregate_class)
        return stored

    def add(self, aggregate: A, /) -> list[StoredEvent]:
        """The core's name for :meth:`save`."""
        return self.save(aggregate)
