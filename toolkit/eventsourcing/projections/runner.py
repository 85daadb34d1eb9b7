"""Running a projection: segment leases, batches, checkpoints, retries, gaps (Django adapter).

A :class:`ProjectionRunner` is one worker of one projection. Any number of them, in any
number of processes on any number of machines sharing one PostgreSQL database, split the
projection's segments between them:

- **Leases.** Every ``lease_seconds / 3`` a runner writes its heartbeat
  (:class:`~toolkit.models.ProjectionWorker`), renews the leases it holds, counts the live
  workers and moves towards its fair share ``ceil(segments / live workers)``: it releases
  segments above it and claims free or expired ones below it with
  ``SELECT ... FOR UPDATE SKIP LOCKED``, so claiming workers never wait on each other. A
  worker that stops releases its segments at once; a killed one stops renewing, and its
  segments are claimed by the others once its leases expire.
- **Exactly once.** A batch locks the runner's segment rows (``FOR UPDATE``, keeping only the
  rows it still owns), reads the global feed from the lowest of their positions, hands each
  event of those segments to :meth:`~.base.Projection.handle` and saves the new positions in
  the same transaction. A lease that moves while a batch runs changes nothing: the row lock
  makes the next holder wait (or skip the row) until the batch commits, and it then reads the
  committed position.
- **Gaps.** Positions can have holes: a rolled-back append, or one that has not committed
  yet. When the backend says holes are final (``positions_commit_in_order``: the Django
  backend on SQLite and on PostgreSQL, where appends hold an advisory lock until commit, and
  the memory backend), batches read on. Otherwise a batch stops before a hole and waits for
  it up to ``gap_timeout`` seconds, measured from when this runner first saw it or from the
  timestamp of the event after it, whichever is longer (clocks are assumed synchronised to
  well under the timeout). A hole still open then is skipped and reported
  (``ProjectionCheckpoint.gaps_skipped`` / ``last_gap`` and a warning in the
  ``toolkit.projections`` log).
- **Poison events.** When ``handle`` raises, the batch rolls back and the segment records the
  event, the error and its traceback, and waits ``retry_backoff * 2 ** (attempts - 1)``
  seconds; other segments carry on. Retries run in a savepoint. After ``max_attempts`` tries
  the event goes to the dead-letter list and the segment moves on (``on_poison = "skip"``), or
  the segment stops at it (``"stop"``) until an operator resumes the projection.

SQLite has no row locks (``FOR UPDATE`` is ignored) and one writer at a time: run one worker
per projection there. Several still produce a correct read model (SQLite serialises their
transactions) but segments can be claimed twice and processed in turns.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from toolkit.eventsourcing.config import es_settings, store_or_default
from toolkit.eventsourcing.projections.base import Projection, retry_delay, segment_of
from toolkit.eventsourcing.store import StoredEvent
from toolkit.registry import projections

if TYPE_CHECKING:
    from toolkit.eventsourcing.event_store import EventStore
    from toolkit.models import ProjectionSegment

logger = logging.getLogger("toolkit.projections")

Clock = Callable[[], float]


@dataclass(frozen=True)
class RunOptions:
    """A projection's settings resolved against ``TOOLKIT["eventsourcing"]``."""

    batch_size: int
    segments: int
    lease_seconds: float
    gap_timeout: float
    max_attempts: int
    retry_backoff: float

    @classmethod
    def of(cls, projection: Projection) -> RunOptions:
        settings = es_settings()
        return cls(
            batch_size=int(projection.batch_size or settings["projection_batch_size"]),
            segments=int(projection.segments),
            lease_seconds=float(settings["projection_lease_seconds"]),
            gap_timeout=float(settings["projection_gap_timeout"]),
            max_attempts=int(projection.max_attempts or settings["projection_max_attempts"]),
            retry_backoff=float(projection.retry_backoff or settings["projection_retry_backoff"]),
        )


def get_projection(name: str) -> Projection:
    """An instance of the projection registered under ``name`` (RegistryError lists names)."""
    return projections.get(name)()


def database() -> str:
    """The database alias holding the event store and the projection tables."""
    return str(es_settings()["database"])


class ProjectionError(Exception):
    """A projection cannot run as configured (the message says what to do)."""


def ensure_rows(projection: Projection) -> None:
    """Create the projection's control row and one row per segment if missing.

    When the class's ``segments`` changed since the rows were made, the rows are
    re-partitioned if every segment stands at the same position (nothing to lose), and a
    :class:`ProjectionError` asks for a rebuild otherwise.
    """
    from django.db import transaction

    from toolkit.models import ProjectionCheckpoint, ProjectionSegment

    db = database()
    name = projection.name
    wanted = projection.segments
    checkpoint, created = ProjectionCheckpoint.objects.using(db).get_or_create(
        name=name, defaults={"segments": wanted}
    )
    if created or checkpoint.segments == wanted:
        existing = ProjectionSegment.objects.using(db).filter(projection=name).count()
        if existing < wanted:
            ProjectionSegment.objects.using(db).bulk_create(
                [ProjectionSegment(projection=name, segment=s) for s in range(wanted)],
                ignore_conflicts=True,
            )
        return
    with transaction.atomic(using=db):
        rows = list(ProjectionSegment.objects.using(db).select_for_update().filter(projection=name))
        positions = {row.position for row in rows}
        if len(positions) > 1:
            raise ProjectionError(
                f"Projection {name!r} now has {wanted} segments but its checkpoints were kept "
                f"for {checkpoint.segments} at different positions; rebuild it "
                f"(manage.py rebuild_projection {name}) to re-partition its streams."
            )
        position = positions.pop() if positions else 0
        ProjectionSegment.objects.using(db).filter(projection=name).delete()
        ProjectionSegment.objects.using(db).bulk_create(
            [
                ProjectionSegment(projection=name, segment=s, position=position)
                for s in range(wanted)
            ]
        )
        ProjectionCheckpoint.objects.using(db).filter(name=name).update(segments=wanted)


class _HandlerFailed(Exception):
    def __init__(self, segment: int, event: StoredEvent, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.segment = segment
        self.event = event
        self.error = error
        self.traceback = "".join(traceback.format_exception(error))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class ProjectionRunner:
    """One worker of one projection: claims segments, processes batches, gives them back.

    Call :meth:`start`, then :meth:`step` in a loop (it returns the events read, 0 when
    there was nothing to do), and :meth:`stop` at the end. ``manage.py run_projections``
    does exactly that; :func:`run_once` and :func:`catch_up` use a short-lived runner.

    .. code-block:: python

        runner = ProjectionRunner("revenue_per_day")
        runner.start()
        try:
            while not stopping:
                if not runner.step():
                    time.sleep(1)
        finally:
            runner.stop()
    """

    def __init__(
        self,
        projection: Projection | str,
        *,
        store: EventStore | None = None,
        worker_id: str | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.projection = get_projection(projection) if isinstance(projection, str) else projection
        self.name = self.projection.name
        self.store = store_or_default(store)
        self.options = RunOptions.of(self.projection)
        self.worker = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.held: list[int] = []
        self.wanted = self.projection.handled_types()
        self._clock = clock
        self._next_beat = -math.inf
        self._gaps: dict[int, float] = {}
        self._rates: dict[int, tuple[float, int]] = {}

    # -- leases ---------------------------------------------------------------------------

    def start(self) -> None:
        """Create the projection's rows if needed, announce this worker, claim segments."""
        ensure_rows(self.projection)
        self.beat(force=True)

    def beat(self, *, force: bool = False) -> list[int]:
        """Heartbeat, renew leases and rebalance (at most every ``lease_seconds / 3`` unless
        ``force``); return the segments held."""
        now_tick = self._clock()
        if not force and now_tick < self._next_beat:
            return self.held
        self._next_beat = now_tick + self.options.lease_seconds / 3
        from django.utils import timezone

        from toolkit.models import ProjectionSegment, ProjectionWorker

        db = database()
        now = timezone.now()
        lease = timedelta(seconds=self.options.lease_seconds)
        updated = (
            ProjectionWorker.objects.using(db)
            .filter(projection=self.name, worker=self.worker)
            .update(heartbeat_at=now)
        )
        if not updated:
            ProjectionWorker.objects.using(db).create(
                projection=self.name,
                worker=self.worker,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                started_at=now,
                heartbeat_at=now,
            )
        # Rows of workers dead for a long time only clutter the panel.
        ProjectionWorker.objects.using(db).filter(
            projection=self.name, heartbeat_at__lt=now - 10 * lease
        ).delete()
        mine = ProjectionSegment.objects.using(db).filter(projection=self.name, owner=self.worker)
        mine.update(lease_expires_at=now + lease)
        live = (
            ProjectionWorker.objects.using(db)
            .filter(projection=self.name, heartbeat_at__gte=now - lease)
            .count()
        )
        fair = math.ceil(self.options.segments / max(live, 1))
        held = sorted(mine.values_list("segment", flat=True))
        if len(held) > fair:
            mine.filter(segment__in=held[fair:]).update(owner="", lease_expires_at=None)
            held = held[:fair]
        elif len(held) < fair:
            held = sorted(held + self._claim(fair - len(held), now, now + lease))
        self.held = held
        return held

    def _claim(self, count: int, now: datetime, expires: datetime) -> list[int]:
        from django.db import transaction
        from django.db.models import Q

        from toolkit.models import ProjectionSegment

        db = database()
        with transaction.atomic(using=db):
            free = list(
                ProjectionSegment.objects.using(db)
                .select_for_update(skip_locked=True)
                .filter(projection=self.name, segment__lt=self.options.segments)
                .filter(
                    Q(owner="") | Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
                )
                .exclude(owner=self.worker)
                .order_by("segment")
                .values_list("pk", "segment")[:count]
            )
            if not free:
                return []
            ProjectionSegment.objects.using(db).filter(pk__in=[pk for pk, _ in free]).update(
                owner=self.worker, lease_expires_at=expires
            )
        claimed = [segment for _, segment in free]
        logger.info("%s: worker %s claimed segments %s", self.name, self.worker, claimed)
        return claimed

    def stop(self) -> None:
        """Release this worker's segments and remove its heartbeat row."""
        from toolkit.models import ProjectionSegment, ProjectionWorker

        db = database()
        ProjectionSegment.objects.using(db).filter(projection=self.name, owner=self.worker).update(
            owner="", lease_expires_at=None
        )
        ProjectionWorker.objects.using(db).filter(projection=self.name, worker=self.worker).delete()
        self.held = []

    # -- batches --------------------------------------------------------------------------

    def step(self) -> int:
        """Beat when due, then process one batch; return the events read (0: nothing)."""
        self.beat()
        if not self.held:
            return 0
        try:
            return self._batch()
        except _HandlerFailed as failure:
            self._record_failure(failure)
            return 0

    def _batch(self) -> int:
        from django.db import transaction
        from django.utils import timezone

        from toolkit.models import ProjectionCheckpoint, ProjectionSegment

        db = database()
        with transaction.atomic(using=db):
            paused = (
                ProjectionCheckpoint.objects.using(db)
                .filter(name=self.name)
                .values_list("paused", flat=True)
                .first()
            )
            if paused:
                return 0
            rows = {
                row.segment: row
                for row in ProjectionSegment.objects.using(db)
                .select_for_update()
                .filter(projection=self.name, segment__in=self.held, owner=self.worker)
            }
            if len(rows) != len(self.held):
                # Another worker took a segment over after our lease expired.
                self.held = sorted(rows)
            now = timezone.now()
            runnable = {
                s: row
                for s, row in rows.items()
                if not row.failed and (row.retry_at is None or row.retry_at <= now)
            }
            if not runnable:
                return 0
            start = min(row.position for row in runnable.values())
            events = self._until_gap(start, self.store.read_all(start, self.options.batch_size))
            if not events:
                return 0
            handled = dict.fromkeys(runnable, 0)
            stopped: set[int] = set()
            segments = self.options.segments
            wanted = self.wanted
            handle = self.projection.handle
            for event in events:
                segment = segment_of(event.aggregate_id, segments)
                row = runnable.get(segment)
                if row is None or segment in stopped or event.position <= row.position:
                    continue
                if wanted and event.event_type not in wanted:
                    continue
                if row.retry_position is not None and event.position >= row.retry_position:
                    outcome = self._retry(row, event, now)
                    if outcome == "wait":
                        stopped.add(segment)
                        row.position = max(row.position, event.position - 1)
                    elif outcome == "applied":
                        handled[segment] += 1
                    continue
                try:
                    handle(event)
                except Exception as exc:
                    raise _HandlerFailed(segment, event, exc) from exc
                handled[segment] += 1
            last = events[-1].position
            expires = now + timedelta(seconds=self.options.lease_seconds)
            tick = self._clock()
            for segment, row in runnable.items():
                if segment not in stopped:
                    row.position = max(row.position, last)
                row.events_handled += handled[segment]
                if handled[segment]:
                    row.progressed_at = now
                row.rate = self._rate(segment, row.events_handled, tick)
                row.lease_expires_at = expires
                row.updated_at = now
            ProjectionSegment.objects.using(db).bulk_update(
                list(runnable.values()),
                [
                    "position",
                    "events_handled",
                    "progressed_at",
                    "rate",
                    "lease_expires_at",
                    "updated_at",
                    "attempts",
                    "retry_position",
                    "retry_at",
                    "failed",
                    "last_error",
                    "last_traceback",
                    "last_error_at",
                ],
            )
            return len(events)

    def _rate(self, segment: int, handled: int, tick: float) -> float:
        """Events per second of ``segment`` over a window of about ten seconds."""
        since, count = self._rates.get(segment, (tick, handled))
        elapsed = tick - since
        rate = (handled - count) / elapsed if elapsed > 0 else 0.0
        if elapsed > 10 or segment not in self._rates:
            self._rates[segment] = (tick, handled)
        return rate

    def _until_gap(self, start: int, events: list[StoredEvent]) -> list[StoredEvent]:
        """``events`` up to the first hole in the positions that may still be filled."""
        if self.store.backend.positions_commit_in_order:
            return events
        for position in [p for p in self._gaps if p <= start]:
            del self._gaps[position]  # filled, or skipped by another worker
        expected = start + 1
        for index, event in enumerate(events):
            if event.position > expected:
                first_seen = self._gaps.setdefault(expected, self._clock())
                waited = max(
                    self._clock() - first_seen,
                    (_utcnow() - event.timestamp).total_seconds(),
                )
                if waited < self.options.gap_timeout:
                    return events[:index]
                self._report_gap(expected, event.position - 1, waited)
                self._gaps.pop(expected, None)
            expected = event.position + 1
        return events

    def _report_gap(self, first: int, last: int, waited: float) -> None:
        from django.db.models import F

        from toolkit.models import ProjectionCheckpoint

        span = f"{first}" if first == last else f"{first}-{last}"
        text = f"positions {span} missing after {waited:.1f}s; skipped"
        logger.warning("%s: %s", self.name, text)
        ProjectionCheckpoint.objects.using(database()).filter(name=self.name).update(
            gaps_skipped=F("gaps_skipped") + 1, last_gap=text[:255]
        )

    def _retry(self, row: ProjectionSegment, event: StoredEvent, now: datetime) -> str:
        """Try the event the segment failed on again: "applied", "dead" (dead-lettered),
        "wait" (failed again, or stopped)."""
        from django.db import transaction

        if row.attempts < self.options.max_attempts:
            try:
                with transaction.atomic(using=database()):
                    self.projection.handle(event)
            except Exception as exc:
                row.attempts += 1
                row.last_error = _describe(exc)
                row.last_traceback = "".join(traceback.format_exception(exc))
                row.last_error_at = now
                row.retry_at = now + timedelta(
                    seconds=retry_delay(row.attempts, base=self.options.retry_backoff)
                )
                if row.attempts < self.options.max_attempts:
                    return "wait"
            else:
                _clear_retry(row)
                return "applied"
        if self.projection.on_poison == "stop":
            row.failed = True
            logger.error(
                "%s: segment %s stopped at position %s after %s tries: %s",
                self.name,
                row.segment,
                event.position,
                row.attempts,
                row.last_error,
            )
            return "wait"
        self._dead_letter(row, event, now)
        _clear_retry(row)
        return "dead"

    def _dead_letter(self, row: ProjectionSegment, event: StoredEvent, now: datetime) -> None:
        from toolkit.models import ProjectionDeadLetter

        ProjectionDeadLetter.objects.using(database()).update_or_create(
            projection=self.name,
            position=event.position,
            defaults={
                "segment": row.segment,
                "event_id": event.event_id,
                "aggregate_id": event.aggregate_id,
                "event_type": event.event_type,
                "attempts": row.attempts,
                "error": row.last_error,
                "traceback": row.last_traceback,
                "updated_at": now,
            },
        )
        logger.error(
            "%s: event at position %s dead-lettered after %s tries: %s",
            self.name,
            event.position,
            row.attempts,
            row.last_error,
        )

    def _record_failure(self, failure: _HandlerFailed) -> None:
        """The first failure of an event: the batch rolled back; remember the event and when
        to try again."""
        from django.utils import timezone

        from toolkit.models import ProjectionSegment

        now = timezone.now()
        delay = retry_delay(1, base=self.options.retry_backoff)
        ProjectionSegment.objects.using(database()).filter(
            projection=self.name, segment=failure.segment, owner=self.worker
        ).update(
            attempts=1,
            retry_position=failure.event.position,
            retry_at=now + timedelta(seconds=delay),
            last_error=str(failure),
            last_traceback=failure.traceback,
            last_error_at=now,
            updated_at=now,
        )
        logger.warning(
            "%s: handler failed at position %s (segment %s), retrying in %.1fs: %s",
            self.name,
            failure.event.position,
            failure.segment,
            delay,
            failure,
        )


def _clear_retry(row: ProjectionSegment) -> None:
    row.attempts = 0
    row.retry_position = None
    row.retry_at = None
    row.last_error = ""
    row.last_traceback = ""
    row.last_error_at = None


def _utcnow() -> datetime:
    from django.utils import timezone

    return timezone.now()


def run_once(projection: Projection | str, *, store: EventStore | None = None) -> int:
    """Claim the free segments, handle one batch, release them; return the events read."""
    runner = ProjectionRunner(projection, store=store)
    runner.start()
    try:
        return runner.step()
    finally:
        runner.stop()


def catch_up(projection: Projection | str, *, store: EventStore | None = None) -> int:
    """Handle batches until the segments this call could claim reach the head (or wait for
    a retry or a gap); return the events read. Segments other workers hold are left to them."""
    runner = ProjectionRunner(projection, store=store)
    runner.start()
    total = 0
    try:
        while read := runner.step():
            total += read
    finally:
        runner.stop()
    return total
