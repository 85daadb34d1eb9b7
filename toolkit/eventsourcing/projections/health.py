"""Projection status and health: lag per segment over the projection's own event types,
Degraded / Unhealthy levels, stalled workers, events per second, dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from toolkit.eventsourcing.config import es_settings, store_or_default
from toolkit.eventsourcing.projections.base import (
    Projection,
    ProjectionStatus,
    SegmentStatus,
    judge_health,
    segment_of,
)
from toolkit.eventsourcing.projections.runner import database
from toolkit.registry import projections

if TYPE_CHECKING:
    from toolkit.eventsourcing.event_store import EventStore

#: Up to this many positions behind the head, ``lag`` is an exact count of the events.
EXACT_LAG_RANGE = 100_000
#: A segment that handled nothing for this long shows 0 events per second.
RATE_WINDOW = timedelta(seconds=30)


def _segment_lags(
    store: EventStore, projection: Projection | None, rows: Sequence[Any], head: int
) -> tuple[dict[int, int], bool]:
    """Events of the projection's types after each segment's position, in that segment.

    Exact when the lowest position is at most :data:`EXACT_LAG_RANGE` positions behind the
    head (the stream ids are read and hashed); beyond it, each segment's lag is bounded by
    the count of all such events after its position (``exact`` False).
    """
    if not rows:
        return {}, True
    types = sorted(projection.handled_types()) if projection is not None else []
    segments = len(rows)
    start = min(row.position for row in rows)
    if head - start > EXACT_LAG_RANGE:
        backend = store.backend
        return {row.segment: backend.count_after(row.position, types) for row in rows}, False
    positions = {row.segment: row.position for row in rows}
    lags = dict.fromkeys(positions, 0)
    for position, aggregate_id in store.backend.stream_keys_after(
        start, types, limit=EXACT_LAG_RANGE + 1
    ):
        segment = segment_of(aggregate_id, segments)
        if segment in positions and position > positions[segment]:
            lags[segment] += 1
    return lags, True


@dataclass
class _Rows:
    """The projection tables' rows for some projections, read in two queries: the segments,
    and the control rows annotated with their live workers and dead letters (a projection
    that never ran has neither)."""

    checkpoints: dict[str, Any]
    segments: dict[str, list[Any]]

    @classmethod
    def read(cls, names: Sequence[str] | None) -> _Rows:
        from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
        from django.db.models.functions import Coalesce
        from django.utils import timezone

        from toolkit.models import (
            ProjectionCheckpoint,
            ProjectionDeadLetter,
            ProjectionSegment,
            ProjectionWorker,
        )

        db = database()
        lease = timedelta(seconds=float(es_settings()["projection_lease_seconds"]))

        def count_of(rows: Any) -> Any:
            counted = (
                rows.filter(projection=OuterRef("name"))
                .order_by()
                .values("projection")
                .annotate(n=Count("id"))
                .values("n")
            )
            return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

        checkpoints = ProjectionCheckpoint.objects.using(db).annotate(
            live_workers=count_of(
                ProjectionWorker.objects.filter(heartbeat_at__gte=timezone.now() - lease)
            ),
            dead_letter_count=count_of(ProjectionDeadLetter.objects.all()),
        )
        segments_rows = ProjectionSegment.objects.using(db).order_by("projection", "segment")
        if names is not None:
            checkpoints = checkpoints.filter(name__in=names)
            segments_rows = segments_rows.filter(projection__in=names)
        segments: dict[str, list[Any]] = {}
        for row in segments_rows:
            segments.setdefault(row.projection, []).append(row)
        return cls(checkpoints={c.name: c for c in checkpoints}, segments=segments)


def projection_status(
    name: str, *, store: EventStore | None = None, head: int | None = None
) -> ProjectionStatus:
    """The status of one projection (registered or left over in the tables)."""
    event_store = store_or_default(store)
    if head is None:
        head = event_store.head_position()
    return _status(name, event_store, head, _Rows.read([name]))


def _status(name: str, event_store: EventStore, head: int, tables: _Rows) -> ProjectionStatus:
    from django.utils import timezone

    from toolkit.models import ProjectionSegment

    settings = es_settings()
    cls = projections.get(name) if name in projections else None
    projection: Projection | None = cls() if cls is not None else None
    checkpoint = tables.checkpoints.get(name)
    now = timezone.now()
    rows = tables.segments.get(name, [])
    if not rows and projection is not None:
        # Never run yet: every segment stands at zero (unsaved rows: a read writes nothing).
        rows = [
            ProjectionSegment(projection=name, segment=s, updated_at=now)
            for s in range(projection.segments)
        ]
    lags, exact = _segment_lags(event_store, projection, rows, head)
    stalled_after = float(
        (projection.stalled_after if projection else None) or settings["projection_stalled_after"]
    )
    live_workers = checkpoint.live_workers if checkpoint is not None else 0
    segments = []
    stalled = False
    for row in rows:
        lag = lags.get(row.segment, 0)
        recent = row.progressed_at is not None and now - row.progressed_at < RATE_WINDOW
        since = row.progressed_at or row.updated_at
        if lag and not row.failed and (now - since).total_seconds() > stalled_after:
            stalled = True
        segments.append(
            SegmentStatus(
                segment=row.segment,
                position=row.position,
                owner=row.owner if row.lease_expires_at and row.lease_expires_at > now else "",
                lease_expires_at=row.lease_expires_at,
                lag=lag,
                events_handled=row.events_handled,
                rate=row.rate if recent else 0.0,
                progressed_at=row.progressed_at,
                attempts=row.attempts,
                retry_position=row.retry_position,
                retry_at=row.retry_at,
                failed=row.failed,
                last_error=row.last_error,
            )
        )
    paused = bool(checkpoint and checkpoint.paused)
    failed = any(s.failed for s in segments)
    stalled = stalled and not paused
    lag = sum(lags.values())
    degraded_lag = int(
        (projection.degraded_lag if projection else None) or settings["projection_degraded_lag"]
    )
    unhealthy_lag = int(
        (projection.unhealthy_lag if projection else None) or settings["projection_max_lag"]
    )
    level, problems = judge_health(
        lag=lag,
        degraded_lag=degraded_lag,
        unhealthy_lag=unhealthy_lag,
        failed=failed,
        stalled=stalled,
        registered=projection is not None,
    )
    errors = [s for s in segments if s.last_error]
    last_error = errors[0].last_error if errors else ""
    error_times = [r.last_error_at for r in rows if r.last_error_at is not None]
    if paused:
        status = "paused"
    elif failed:
        status = "failed"
    elif stalled or (checkpoint is not None and checkpoint.status == "stalled"):
        status = "stalled"
    elif errors:
        status = "retrying"
    elif live_workers:
        status = "running"
    else:
        status = "idle"
    updated = [r.updated_at for r in rows if r.pk is not None]
    return ProjectionStatus(
        name=name,
        position=min((r.position for r in rows), default=0),
        head=head,
        lag=lag,
        degraded_lag=degraded_lag,
        unhealthy_lag=unhealthy_lag,
        last_error=last_error,
        healthy=level == "healthy",
        updated_at=max(updated) if updated else None,
        status=status,
        events_handled=sum(r.events_handled for r in rows),
        last_error_at=max(error_times) if error_times else None,
        health=level,
        paused=paused,
        stalled=stalled,
        lag_exact=exact,
        rate=sum(s.rate for s in segments),
        dead_letters=checkpoint.dead_letter_count if checkpoint is not None else 0,
        restarts=checkpoint.restarts if checkpoint else 0,
        gaps_skipped=checkpoint.gaps_skipped if checkpoint else 0,
        problems=problems,
        segments=tuple(segments),
    )


def projection_statuses(*, store: EventStore | None = None) -> list[ProjectionStatus]:
    """A status for every registered projection (and every checkpoint row), by name; the
    projection tables are read in two queries whatever the number of projections."""
    event_store = store_or_default(store)
    head = event_store.head_position()
    tables = _Rows.read(None)
    names = set(projections) | set(tables.checkpoints)
    return [_status(name, event_store, head, tables) for name in sorted(names)]


def unhealthy_projections(
    *, store: EventStore | None = None, statuses: Sequence[ProjectionStatus] | None = None
) -> list[str]:
    """One line per projection that is not healthy (degraded or unhealthy), with the
    reasons; empty when all are healthy. Pass ``statuses`` already read with
    :func:`projection_statuses` to skip reading them again."""
    if statuses is None:
        statuses = projection_statuses(store=store)
    return [
        f"{status.name}: {status.health}: {'; '.join(status.problems)}"
        for status in statuses
        if status.health != "healthy"
    ]
