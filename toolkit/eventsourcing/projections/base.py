"""The projection class and the rules of segmenting, retrying and health (pure Python).

Nothing here touches the database: :mod:`.runner` (leases, batches, checkpoints) and
:mod:`.operations` (rebuild, rewind, pause, dead letters) are the Django adapter around it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from toolkit.eventsourcing.handlers import event_type_of
from toolkit.eventsourcing.store import StoredEvent
from toolkit.registry import projections

#: What a projection does with an event its handler keeps failing on.
OnPoison = Literal["skip", "stop"]
ON_POISON_CHOICES: tuple[OnPoison, ...] = ("skip", "stop")
#: A projection's health, from best to worst.
Health = Literal["healthy", "degraded", "unhealthy"]


def segment_of(aggregate_id: str, segments: int) -> int:
    """The segment of a stream: ``crc32(aggregate_id) % segments``.

    A stable hash (the same on every machine and every run, unlike ``hash()`` whose string
    hashing is randomised per process), so all events of one stream land in one segment and
    keep their order there.
    """
    if segments <= 1:
        return 0
    return zlib.crc32(aggregate_id.encode()) % segments


def retry_delay(attempts: int, *, base: float, cap: float = 300.0) -> float:
    """Seconds to wait before try ``attempts + 1``: ``base * 2 ** (attempts - 1)``, capped."""
    if attempts <= 0:
        return 0.0
    return float(min(cap, base * 2 ** (attempts - 1)))


class Projection:
    """Base class of a persistent projection; subclasses register under ``name``.

    Set ``event_types`` (event classes or type names; empty means every event), implement
    :meth:`handle` and :meth:`reset`. Class attributes tune how it runs; ``None`` takes the
    ``TOOLKIT["eventsourcing"]`` setting named in the comment.

    .. code-block:: python

        class RevenueByDay(Projection):
            event_types = ("OrderPaid",)
            segments = 8          # up to 8 workers share it
            on_poison = "skip"    # dead-letter an event that keeps failing, go on

            def handle(self, event):
                DailyRevenue.objects.filter(day=event.timestamp.date()).update(...)

            def reset(self):
                DailyRevenue.objects.all().delete()
    """

    #: Registry name; default: the class name.
    name: ClassVar[str] = ""
    #: Event classes or event type names handled (empty: all events).
    event_types: ClassVar[tuple[Any, ...]] = ()
    #: Events read per transaction (``projection_batch_size``).
    batch_size: ClassVar[int | None] = None
    #: Streams are spread over this many segments, each processed by one worker at a time.
    #: Changing it re-partitions the streams: rebuild the projection afterwards.
    segments: ClassVar[int] = 1
    #: Tries of a failing event before it is dead-lettered (``projection_max_attempts``).
    max_attempts: ClassVar[int | None] = None
    #: Seconds before the first retry, doubled each time (``projection_retry_backoff``).
    retry_backoff: ClassVar[float | None] = None
    #: After ``max_attempts``: "skip" dead-letters the event and goes on, "stop" stops the
    #: segment at it until an operator resumes the projection.
    on_poison: ClassVar[OnPoison] = "skip"
    #: Lag (own events waiting) above which the projection is degraded
    #: (``projection_degraded_lag``) or unhealthy (``projection_max_lag``).
    degraded_lag: ClassVar[int | None] = None
    unhealthy_lag: ClassVar[int | None] = None
    #: Seconds without progress while events wait before it counts as stalled
    #: (``projection_stalled_after``).
    stalled_after: ClassVar[float | None] = None
    #: Abstract projections are not registered.
    abstract: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__ or not cls.__dict__["name"]:
            cls.name = cls.__name__
        if cls.on_poison not in ON_POISON_CHOICES:
            choices = ", ".join(repr(c) for c in ON_POISON_CHOICES)
            raise TypeError(
                f"{cls.__name__}.on_poison is {cls.on_poison!r}; valid choices are: {choices}"
            )
        if not isinstance(cls.segments, int) or isinstance(cls.segments, bool) or cls.segments < 1:
            raise TypeError(f"{cls.__name__}.segments is {cls.segments!r}; it must be an int >= 1")
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

    def clear_after(self, position: int) -> bool:
        """Remove what events after ``position`` wrote to the read model, for a rewind.

        Return True when done. The default returns False: the rewind then calls
        :meth:`reset` and replays the events up to ``position`` itself, which is always
        right but replays more. Override it when the read model can drop a tail cheaply
        (rows keyed by position or by time).
        """
        return False


@dataclass(frozen=True)
class SegmentStatus:
    """One segment: its position, holder, lease expiry, lag and retry state."""

    segment: int
    position: int
    owner: str
    lease_expires_at: datetime | None
    lag: int
    events_handled: int
    rate: float
    progressed_at: datetime | None
    attempts: int = 0
    retry_position: int | None = None
    retry_at: datetime | None = None
    failed: bool = False
    last_error: str = ""


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection stands and how it fares.

    ``position`` is the lowest segment position; ``lag`` the number of the projection's own
    events (``event_types``) not yet handled, summed over its segments (exact up to
    ``EXACT_LAG_RANGE`` positions behind the head, an upper bound beyond: ``lag_exact``).
    ``health`` is "healthy", "degraded" or "unhealthy" from the lag thresholds, a failure
    or a stall; ``problems`` says why.
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
    health: Health = "healthy"
    paused: bool = False
    stalled: bool = False
    lag_exact: bool = True
    rate: float = 0.0
    dead_letters: int = 0
    restarts: int = 0
    gaps_skipped: int = 0
    problems: tuple[str, ...] = ()
    segments: tuple[SegmentStatus, ...] = field(default_factory=tuple)
    #: The lag thresholds ``health`` was judged with (above ``degraded_lag``: degraded,
    #: above ``unhealthy_lag``: unhealthy), so a reader can show them.
    degraded_lag: int = 0
    unhealthy_lag: int = 0


def judge_health(
    *,
    lag: int,
    degraded_lag: int,
    unhealthy_lag: int,
    failed: bool,
    stalled: bool,
    registered: bool,
) -> tuple[Health, tuple[str, ...]]:
    """The health level and its reasons: unregistered, failed or stalled is unhealthy; the
    lag is compared with the two thresholds."""
    problems: list[str] = []
    level: Health = "healthy"
    if not registered:
        problems.append("no projection class is registered under this name")
        level = "unhealthy"
    if failed:
        problems.append("a segment stopped on an event its handler keeps failing on")
        level = "unhealthy"
    if stalled:
        problems.append("no progress while events wait (stalled)")
        level = "unhealthy"
    if lag > unhealthy_lag:
        problems.append(f"lag {lag} events > {unhealthy_lag} (unhealthy)")
        level = "unhealthy"
    elif lag > degraded_lag:
        problems.append(f"lag {lag} events > {degraded_lag} (degraded)")
        if level == "healthy":
            level = "degraded"
    return level, tuple(problems)
