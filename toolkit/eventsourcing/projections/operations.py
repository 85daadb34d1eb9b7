"""What operators do to a projection: rebuild, rewind, pause, resume, dead letters.

Every operation locks the projection's segment rows (``FOR UPDATE``) first, so it waits for
the batches in flight and the workers wait for it: nothing races a rewind or a rebuild. The
panel and ``manage.py projections`` call these functions, and audit who did it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from toolkit.core.validation import MAX_INT
from toolkit.eventsourcing.config import store_or_default
from toolkit.eventsourcing.projections.base import Projection
from toolkit.eventsourcing.projections.runner import (
    RunOptions,
    database,
    ensure_rows,
    get_projection,
)
from toolkit.eventsourcing.store import StoredEvent

if TYPE_CHECKING:
    from toolkit.eventsourcing.event_store import EventStore
    from toolkit.models import ProjectionDeadLetter

logger = logging.getLogger("toolkit.projections")

Progress = Callable[[int, int], Any]


def events_to_replay(name: str, *, position: int = 0, store: EventStore | None = None) -> int:
    """How many events a rebuild (``position=0``) or a rewind to ``position`` hands to the
    projection's ``handle``: the events after ``position``, plus, when the projection does
    not override :meth:`~.base.Projection.clear_after`, the events up to it."""
    projection = get_projection(name)
    backend = store_or_default(store).backend
    types = sorted(projection.handled_types())
    after = backend.count_after(position, types)
    if position > 0 and not _clears_cheaply(projection):
        return backend.count_after(0, types)
    return after


def _clears_cheaply(projection: Projection) -> bool:
    return type(projection).clear_after is not Projection.clear_after


def _lock_segments(name: str) -> list[Any]:
    from toolkit.models import ProjectionSegment

    return list(
        ProjectionSegment.objects.using(database()).select_for_update().filter(projection=name)
    )


def _replay(
    projection: Projection,
    store: EventStore,
    *,
    after: int,
    until: int | None,
    done: int,
    total: int,
    progress: Progress | None,
) -> tuple[int, int]:
    """Hand every event in ``(after, until]`` of the projection's types to ``handle``;
    return (events handled so far, last position read)."""
    wanted = projection.handled_types()
    batch = RunOptions.of(projection).batch_size
    position = after
    while events := store.read_all(position, batch):
        for event in events:
            if until is not None and event.position > until:
                return done, position
            if not wanted or event.event_type in wanted:
                projection.handle(event)
                done += 1
            position = event.position
        if progress is not None:
            progress(done, max(total, done))
    return done, position


def rebuild_projection(
    name: str, *, progress: Progress | None = None, store: EventStore | None = None
) -> int:
    """Rebuild ``name`` from zero: ``reset()`` and replay every event up to the head in one
    transaction, then move every segment there; return the events handled.

    ``progress(done, total)`` is called after each batch. Until the transaction commits,
    other connections keep reading the previous read model; the segment rows stay locked,
    so workers wait instead of racing the rebuild. Dead letters are cleared (their events
    were just replayed), and so are retries and stopped segments.
    """
    from django.db import transaction
    from django.utils import timezone

    from toolkit.models import ProjectionCheckpoint, ProjectionDeadLetter, ProjectionSegment

    projection = get_projection(name)
    store = store_or_default(store)
    db = database()
    ensure_rows_for_rebuild(projection)
    total = store.backend.count_after(0, sorted(projection.handled_types()))
    if progress is not None:
        progress(0, total)
    with transaction.atomic(using=db):
        _lock_segments(name)
        projection.reset()
        done, position = _replay(
            projection, store, after=0, until=None, done=0, total=total, progress=progress
        )
        now = timezone.now()
        ProjectionSegment.objects.using(db).filter(projection=name).update(
            position=position,
            events_handled=0,
            progressed_at=now,
            **_CLEARED,
            updated_at=now,
        )
        ProjectionSegment.objects.using(db).filter(projection=name, segment=0).update(
            events_handled=done
        )
        ProjectionDeadLetter.objects.using(db).filter(projection=name).delete()
        ProjectionCheckpoint.objects.using(db).filter(name=name).update(
            status="idle", rebuilt_at=now, updated_at=now
        )
    return done


_CLEARED: dict[str, Any] = {
    "attempts": 0,
    "retry_position": None,
    "retry_at": None,
    "failed": False,
    "last_error": "",
    "last_traceback": "",
    "last_error_at": None,
}


def ensure_rows_for_rebuild(projection: Projection) -> None:
    """Like :func:`ensure_rows`, but a changed ``segments`` re-partitions unconditionally
    (the rebuild replays everything, so the old positions do not matter)."""
    from toolkit.models import ProjectionCheckpoint, ProjectionSegment

    db = database()
    checkpoint = ProjectionCheckpoint.objects.using(db).filter(name=projection.name).first()
    if checkpoint is not None and checkpoint.segments != projection.segments:
        ProjectionSegment.objects.using(db).filter(projection=projection.name).update(position=0)
    ensure_rows(projection)


@dataclass(frozen=True)
class RewindResult:
    """What a rewind did: the position it went back to and the events it replayed now (when
    the projection does not clear a tail itself); workers replay the rest."""

    position: int
    replayed_now: int
    to_replay: int


def resolve_position(
    *,
    position: int | None = None,
    timestamp: datetime | None = None,
    store: EventStore | None = None,
) -> int:
    """The position to rewind to: ``position`` itself, or the last event appended before
    ``timestamp``. Exactly one of them must be given."""
    if (position is None) == (timestamp is None):
        raise ValueError(
            f"Give a position or a timestamp to rewind to, not position={position!r} and "
            f"timestamp={timestamp!r}"
        )
    if position is not None:
        if position < 0:
            raise ValueError(f"Cannot rewind to position {position!r}; positions start at 0")
        if position > MAX_INT:
            raise ValueError(
                f"Cannot rewind to position {position!r}; positions end at {MAX_INT} (2**63 - 1)"
            )
        return position
    assert timestamp is not None
    return store_or_default(store).backend.position_before(timestamp)


def rewind_projection(
    name: str,
    *,
    position: int | None = None,
    timestamp: datetime | None = None,
    store: EventStore | None = None,
) -> RewindResult:
    """Move every segment of ``name`` back to ``position`` (or to the last event before
    ``timestamp``) so the workers replay what follows.

    In one transaction, with the segments locked: the projection's
    :meth:`~.base.Projection.clear_after` drops the read model's tail, or, when it does not
    override it, :meth:`~.base.Projection.reset` empties the read model and the events up to
    the position are replayed here. Retries, stopped segments and the dead letters after the
    position (or all of them, after a reset) are cleared.
    """
    from django.db import transaction
    from django.utils import timezone

    from toolkit.models import ProjectionDeadLetter, ProjectionSegment

    projection = get_projection(name)
    store = store_or_default(store)
    target = resolve_position(position=position, timestamp=timestamp, store=store)
    db = database()
    ensure_rows(projection)
    replayed = 0
    with transaction.atomic(using=db):
        _lock_segments(name)
        letters = ProjectionDeadLetter.objects.using(db).filter(projection=name)
        if projection.clear_after(target):
            letters.filter(position__gt=target).delete()
        else:
            projection.reset()
            replayed, _ = _replay(
                projection, store, after=0, until=target, done=0, total=0, progress=None
            )
            letters.delete()
        now = timezone.now()
        ProjectionSegment.objects.using(db).filter(projection=name).update(
            position=target, progressed_at=now, **_CLEARED, updated_at=now
        )
    to_replay = store.backend.count_after(target, sorted(projection.handled_types()))
    logger.warning("%s: rewound to position %s (%s events to replay)", name, target, to_replay)
    return RewindResult(position=target, replayed_now=replayed, to_replay=to_replay)


def pause_projection(name: str) -> None:
    """Stop the workers of ``name`` from handling events (they keep their leases)."""
    from django.utils import timezone

    from toolkit.models import ProjectionCheckpoint

    projection = get_projection(name)
    ensure_rows(projection)
    ProjectionCheckpoint.objects.using(database()).filter(name=name).update(
        paused=True, status="paused", updated_at=timezone.now()
    )


def resume_projection(name: str) -> None:
    """Let the workers of ``name`` go on; stopped segments and pending retries are retried
    at once (with their attempt count reset)."""
    from django.db.models import Q
    from django.utils import timezone

    from toolkit.models import ProjectionCheckpoint, ProjectionSegment

    projection = get_projection(name)
    ensure_rows(projection)
    now = timezone.now()
    db = database()
    ProjectionCheckpoint.objects.using(db).filter(name=name).update(
        paused=False, status="idle", restarts=0, updated_at=now
    )
    ProjectionSegment.objects.using(db).filter(projection=name).filter(
        Q(failed=True) | Q(retry_position__isnull=False)
    ).update(failed=False, attempts=0, retry_at=now, updated_at=now)


def dead_letters(name: str | None = None) -> list[ProjectionDeadLetter]:
    """The dead letters of ``name`` (of every projection when None), oldest position first."""
    from toolkit.models import ProjectionDeadLetter

    rows = ProjectionDeadLetter.objects.using(database()).order_by("projection", "position")
    if name is not None:
        rows = rows.filter(projection=name)
    return list(rows)


class DeadLetterNotFound(LookupError):
    """No dead letter with that id for that projection."""

    def __init__(self, name: str, pk: int) -> None:
        super().__init__(f"Projection {name!r} has no dead letter #{pk!r}")
        self.name = name
        self.pk = pk


def _event_at(store: EventStore, position: int) -> StoredEvent | None:
    events = store.read_all(position - 1, 1)
    if events and events[0].position == position:
        return events[0]
    return None


def retry_dead_letter(name: str, pk: int, *, store: EventStore | None = None) -> None:
    """Apply the dead-lettered event ``pk`` once more and delete its row, in one
    transaction; if the handler fails again the row keeps the new error (and an attempt
    more) and the error is raised."""
    import traceback

    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from toolkit.models import ProjectionDeadLetter

    projection = get_projection(name)
    store = store_or_default(store)
    db = database()
    letter = ProjectionDeadLetter.objects.using(db).filter(projection=name, pk=pk).first()
    if letter is None:
        raise DeadLetterNotFound(name, pk)
    event = _event_at(store, letter.position)
    if event is None:
        raise LookupError(
            f"The event at position {letter.position} of dead letter #{pk} of {name!r} is "
            "no longer in the store; drop the dead letter instead"
        )
    try:
        with transaction.atomic(using=db):
            # Locked and deleted before the handler runs: a second retry of the same letter
            # finds nothing to delete and rolls back, so the event is applied once.
            deleted, _ = (
                ProjectionDeadLetter.objects.using(db).filter(projection=name, pk=pk).delete()
            )
            if not deleted:
                raise DeadLetterNotFound(name, pk)
            projection.handle(event)
    except DeadLetterNotFound:
        raise
    except Exception as exc:
        ProjectionDeadLetter.objects.using(db).filter(projection=name, pk=pk).update(
            attempts=F("attempts") + 1,
            error=f"{type(exc).__name__}: {exc}",
            traceback="".join(traceback.format_exception(exc)),
            updated_at=timezone.now(),
        )
        raise
    logger.warning("%s: dead letter #%s retried and applied", name, pk)


def drop_dead_letter(name: str, pk: int) -> None:
    """Delete dead letter ``pk`` of ``name`` without applying it."""
    from toolkit.models import ProjectionDeadLetter

    deleted, _ = (
        ProjectionDeadLetter.objects.using(database()).filter(projection=name, pk=pk).delete()
    )
    if not deleted:
        raise DeadLetterNotFound(name, pk)
    logger.warning("%s: dead letter #%s dropped", name, pk)
