"""Persistent catch-up projections: read models fed from the global feed, exactly once.

A projection reads ``read_all`` from its checkpoint, hands each event it subscribes to to
:meth:`Projection.handle` (which writes the read model with the ORM), and saves the new
checkpoint **in the same database transaction** as the read-model writes: a crash either keeps
both or neither, so no event is applied twice or lost.

.. code-block:: python

    class RevenueByDay(Projection):
        event_types = ("OrderPaid",)

        def handle(self, event):
            day = event.timestamp.date()
            row, _ = DailyRevenue.objects.get_or_create(day=day)
            DailyRevenue.objects.filter(pk=row.pk).update(total=F("total") + event.payload["total"])

        def reset(self):
            DailyRevenue.objects.all().delete()

Run them with ``manage.py run_projections`` (stops cleanly on SIGTERM/SIGINT); rebuild one
with ``manage.py rebuild_projection NAME``. A rebuild runs ``reset()`` and the full replay in
one transaction: readers keep seeing the old read model until the new one commits, never a
half-built one (see docs/eventsourcing.md for the cost).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from toolkit.eventsourcing.config import store_or_default
from toolkit.eventsourcing.handlers import event_type_of
from toolkit.eventsourcing.store import StoredEvent
from toolkit.registry import projections

if TYPE_CHECKING:
    from toolkit.eventsourcing.event_store import EventStore
    from toolkit.models import ProjectionCheckpoint

Progress = Callable[[int, int], Any]


class Projection:
    """Base class of a persistent projection; subclasses register under ``name``.

    Set ``event_types`` (event classes or type names; empty means every event), implement
    :meth:`handle` and :meth:`reset`. ``batch_size`` overrides the
    ``projection_batch_size`` setting.
    """

    #: Registry name; default: the class name.
    name: ClassVar[str] = ""
    #: Event classes or event type names handled (empty: all events).
    event_types: ClassVar[tuple[Any, ...]] = ()
    #: Events per transaction (None: the ``projection_batch_size`` setting).
    batch_size: ClassVar[int | None] = None
    #: Abstract projections are not registered.
    abstract: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__ or not cls.__dict__["name"]:
            cls.name = cls.__name__
        if not cls.__dict__.get("abstract", False):
            projections.register(cls.name, cls)

    def handled_types(self) -> frozenset[str]:
        """The event type names this projection handles (empty: all)."""
        return frozenset(event_type_of(t) for t in self.event_types)

    def handle(self, event: StoredEvent) -> None:
        """Apply one event to the read model (runs inside the checkpoint's transaction)."""
        raise NotImplementedError(f"{type(self).__name__} must implement handle(event)")

    def reset(self) -> None:
        """Empty the read model before a rebuild (runs inside the rebuild's transaction)."""
        raise NotImplementedError(f"{type(self).__name__} must implement reset()")


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection stands: ``lag`` = the events stored after ``position``.

    Positions can have gaps (a rolled-back append on PostgreSQL consumes its sequence values),
    so ``head - position`` overstates the lag: the events after ``position`` are counted
    exactly when that range spans at most :data:`EXACT_LAG_RANGE` positions (an index range
    count), and ``head - position`` is used as an upper bound beyond it.
    """

    name: str
    position: int
    head: int
    lag: int
    last_error: str
    healthy: bool
    updated_at: datetime | None
    status: str = "idle"
    events_handled: int = 0
    last_error_at: datetime | None = None


def get_projection(name: str) -> Projection:
    """An instance of the projection registered under ``name`` (RegistryError lists names)."""
    return projections.get(name)()  # type: ignore[no-any-return]


def _database() -> str:
    from toolkit.eventsourcing.config import es_settings

    return str(es_settings()["database"])


def _checkpoint(name: str) -> ProjectionCheckpoint:
    from toolkit.models import ProjectionCheckpoint

    checkpoint, _ = ProjectionCheckpoint.objects.using(_database()).get_or_create(name=name)
    return checkpoint


def _batch_size(projection: Projection) -> int:
    from toolkit.eventsourcing.config import es_settings

    return int(projection.batch_size or es_settings()["projection_batch_size"])


def run_once(projection: Projection | str, *, store: EventStore | None = None) -> int:
    """Handle one batch after the checkpoint in one transaction; return the number of events
    read (0 when caught up). On a handler error the batch is rolled back, the error is
    recorded on the checkpoint and re-raised."""
    from django.db import transaction
    from django.utils import timezone

    from toolkit.models import ProjectionCheckpoint

    if isinstance(projection, str):
        projection = get_projection(projection)
    store = store_or_default(store)
    database = _database()
    _checkpoint(projection.name)
    wanted = projection.handled_types()
    current: StoredEvent | None = None
    try:
        with transaction.atomic(using=database):
            checkpoint = (
                ProjectionCheckpoint.objects.using(database)
                .select_for_update()
                .get(name=projection.name)
            )
            events = store.read_all(checkpoint.position, _batch_size(projection))
            if not events:
                return 0
            handled = 0
            for current in events:
                if not wanted or current.event_type in wanted:
                    projection.handle(current)
                    handled += 1
            checkpoint.position = events[-1].position
            checkpoint.events_handled += handled
            checkpoint.status = "running"
            checkpoint.last_error = ""
            checkpoint.last_error_at = None
            checkpoint.last_error_position = None
            checkpoint.updated_at = timezone.now()
            checkpoint.save(using=database)
            return len(events)
    except Exception as exc:
        ProjectionCheckpoint.objects.using(database).filter(name=projection.name).update(
            status="failed",
            last_error=f"{type(exc).__name__}: {exc}",
            last_error_at=timezone.now(),
            last_error_position=current.position if current is not None else None,
            updated_at=timezone.now(),
        )
        raise


def catch_up(projection: Projection | str, *, store: EventStore | None = None) -> int:
    """Run batches until the projection reaches the head; return the events read."""
    from django.utils import timezone

    from toolkit.models import ProjectionCheckpoint

    if isinstance(projection, str):
        projection = get_projection(projection)
    total = 0
    while read := run_once(projection, store=store):
        total += read
    ProjectionCheckpoint.objects.using(_database()).filter(
        name=projection.name, status="running"
    ).update(status="idle", updated_at=timezone.now())
    return total


def events_to_replay(name: str, *, store: EventStore | None = None) -> int:
    """How many events a rebuild of ``name`` from zero would hand to its ``handle``."""
    projection = get_projection(name)
    return store_or_default(store).backend.count_after(0, sorted(projection.handled_types()))


def rebuild_projection(
    name: str, *, progress: Progress | None = None, store: EventStore | None = None
) -> int:
    """Rebuild ``name`` from zero: ``reset()`` and replay every event up to the head in one
    transaction, then move the checkpoint; return the events handled.

    ``progress(done, total)`` is called after each batch. Until the transaction commits,
    other connections keep reading the previous read model; the checkpoint row stays locked
    so ``run_projections`` waits instead of racing the rebuild.
    """
    from django.db import transaction
    from django.utils import timezone

    from toolkit.models import ProjectionCheckpoint

    projection = get_projection(name)
    store = store_or_default(store)
    database = _database()
    wanted = projection.handled_types()
    _checkpoint(name)
    total = store.backend.count_after(0, sorted(wanted))
    batch = _batch_size(projection)
    done = 0
    if progress is not None:
        progress(0, total)
    with transaction.atomic(using=database):
        checkpoint = ProjectionCheckpoint.objects.using(database).select_for_update().get(name=name)
        projection.reset()
        position = 0
        while events := store.read_all(position, batch):
            for event in events:
                if not wanted or event.event_type in wanted:
                    projection.handle(event)
                    done += 1
            position = events[-1].position
            if progress is not None:
                progress(done, max(total, done))
        now = timezone.now()
        checkpoint.position = position
        checkpoint.events_handled = done
        checkpoint.status = "idle"
        checkpoint.last_error = ""
        checkpoint.last_error_at = None
        checkpoint.last_error_position = None
        checkpoint.rebuilt_at = now
        checkpoint.updated_at = now
        checkpoint.save(using=database)
    return done


#: Up to this many positions behind the head, ``lag`` is an exact count of the events.
EXACT_LAG_RANGE = 100_000


def _lag(store: EventStore, head: int, position: int) -> int:
    span = max(head - position, 0)
    if span == 0 or span > EXACT_LAG_RANGE:
        return span
    return store.backend.count_after(position)


def projection_statuses(*, store: EventStore | None = None) -> list[ProjectionStatus]:
    """A status for every registered projection (and every checkpoint row), by name."""
    from toolkit.eventsourcing.config import es_settings
    from toolkit.models import ProjectionCheckpoint

    event_store = store_or_default(store)
    head = event_store.head_position()
    max_lag = int(es_settings()["projection_max_lag"])
    rows = {c.name: c for c in ProjectionCheckpoint.objects.using(_database()).all()}
    statuses = []
    for name in sorted(set(projections) | set(rows)):
        row = rows.get(name)
        position = row.position if row else 0
        lag = _lag(event_store, head, position)
        error = row.last_error if row else ""
        statuses.append(
            ProjectionStatus(
                name=name,
                position=position,
                head=head,
                lag=lag,
                last_error=error,
                healthy=not error and lag <= max_lag and name in projections,
                updated_at=row.updated_at if row else None,
                status=row.status if row else "idle",
                events_handled=row.events_handled if row else 0,
                last_error_at=row.last_error_at if row else None,
            )
        )
    return statuses


def unhealthy_projections(
    *, store: EventStore | None = None, statuses: Sequence[ProjectionStatus] | None = None
) -> list[str]:
    """One line per unhealthy projection (the health check's output); empty when all are
    healthy. A checkpoint whose projection is no longer registered counts as unhealthy.
    Pass ``statuses`` already read with :func:`projection_statuses` to skip reading them
    again."""
    if statuses is None:
        statuses = projection_statuses(store=store)
    problems = []
    for status in statuses:
        if status.healthy:
            continue
        if status.name not in projections:
            reason = "no projection class is registered under this name"
        elif status.last_error:
            reason = f"last error: {status.last_error}"
        else:
            reason = f"lag {status.lag} events (head {status.head}, position {status.position})"
        problems.append(f"{status.name}: {reason}")
    return problems
