"""The event-store backend contract and the values it deals in (pure Python, no Django).

A backend stores events per stream (one aggregate) with contiguous sequence numbers starting
at 1, assigns every event a global position, and keeps snapshots. Three backends implement
:class:`EventStoreBackend`: :mod:`~toolkit.eventsourcing.backends.memory`,
:mod:`~toolkit.eventsourcing.backends.django` and :mod:`~toolkit.eventsourcing.backends.redis`.
The facade users call, :class:`toolkit.patterns.event_store.EventStore`, adds JSON checks,
schema validation, upcasting and handlers on top of any backend.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class StoredEvent:
    """One event as stored: its stream, sequence, global position, payload and metadata.

    ``position`` is the global position used by ``read_all``. ``event_id`` (a UUID),
    ``timestamp`` (aware, UTC) and ``schema_version`` come from the envelope;
    ``correlation_id``, ``causation_id`` and ``user_id`` are empty strings when not given.
    Instances are built on the load hot path, so this is a plain slotted class; the UUID and
    the timestamp are decoded from the backend's raw values on first access.
    """

    __slots__ = (
        "_event_id",
        "_timestamp",
        "aggregate_id",
        "aggregate_type",
        "causation_id",
        "correlation_id",
        "event_type",
        "metadata",
        "payload",
        "position",
        "schema_version",
        "sequence",
        "user_id",
    )

    def __init__(
        self,
        aggregate_id: str,
        aggregate_type: str,
        sequence: int,
        event_type: str,
        payload: dict[str, Any],
        position: int,
        event_id: uuid.UUID | str,
        timestamp: datetime | str,
        schema_version: int = 1,
        correlation_id: str = "",
        causation_id: str = "",
        user_id: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.aggregate_id = aggregate_id
        self.aggregate_type = aggregate_type
        self.sequence = sequence
        self.event_type = event_type
        self.payload = payload
        self.position = position
        self._event_id = event_id
        self._timestamp = timestamp
        self.schema_version = schema_version
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        self.user_id = user_id
        self.metadata = metadata if metadata is not None else {}

    @property
    def event_id(self) -> uuid.UUID:
        """The event's unique id."""
        raw = self._event_id
        if not isinstance(raw, uuid.UUID):
            raw = self._event_id = uuid.UUID(raw)
        return raw

    @property
    def event_version(self) -> int:
        """djangoevents' name for :attr:`schema_version` (its envelope's ``event_version``)."""
        return self.schema_version

    @property
    def timestamp(self) -> datetime:
        """When the event was appended (aware, UTC)."""
        raw = self._timestamp
        if isinstance(raw, str):
            raw = datetime.fromisoformat(raw)
        if raw.tzinfo is None:
            raw = raw.replace(tzinfo=UTC)
        self._timestamp = raw
        return raw

    def replace(self, **changes: Any) -> StoredEvent:
        """A copy with ``changes`` applied (used by upcasters)."""
        values: dict[str, Any] = {
            "aggregate_id": self.aggregate_id,
            "aggregate_type": self.aggregate_type,
            "sequence": self.sequence,
            "event_type": self.event_type,
            "payload": self.payload,
            "position": self.position,
            "event_id": self._event_id,
            "timestamp": self._timestamp,
            "schema_version": self.schema_version,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "user_id": self.user_id,
            "metadata": self.metadata,
        }
        values.update(changes)
        return StoredEvent(**values)

    def as_dict(self) -> dict[str, Any]:
        """The event as plain JSON-friendly data."""
        return {
            "aggregate_id": self.aggregate_id,
            "aggregate_type": self.aggregate_type,
            "sequence": self.sequence,
            "event_type": self.event_type,
            "payload": self.payload,
            "position": self.position,
            "event_id": str(self.event_id),
            "timestamp": self.timestamp.isoformat(),
            "schema_version": self.schema_version,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "user_id": self.user_id,
            "metadata": self.metadata,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoredEvent):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash((self.aggregate_id, self.sequence, str(self.event_id)))

    def __repr__(self) -> str:
        return (
            f"StoredEvent(aggregate_id={self.aggregate_id!r}, sequence={self.sequence!r}, "
            f"event_type={self.event_type!r}, position={self.position!r}, "
            f"payload={self.payload!r})"
        )


@dataclass(frozen=True)
class Snapshot:
    """The folded state of an aggregate at ``sequence``."""

    aggregate_id: str
    sequence: int
    state: dict[str, Any]
    aggregate_type: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class StreamInfo:
    """One stream (aggregate) of a store: its type, head sequence and last append time.

    ``cursor`` names the stream's place in the stream listing (most recently appended
    first); pass it back as ``before=`` or ``after=`` to :meth:`EventStoreBackend.list_streams`
    for the next or previous page. Its format is the backend's own: treat it as opaque.
    """

    aggregate_id: str
    aggregate_type: str
    last_sequence: int
    updated_at: datetime
    cursor: str = field(default="", compare=False)


@dataclass(frozen=True)
class StreamPage:
    """One keyset page of the stream listing, newest first, and how to reach its neighbours.

    ``older_cursor`` / ``newer_cursor`` are the cursors to pass as ``before=`` / ``after=``
    for the next (older) and previous (newer) page; None when there is no such page.
    """

    streams: list[StreamInfo]
    older_cursor: str | None
    newer_cursor: str | None


@dataclass(frozen=True)
class StreamCount:
    """How many streams a listing filter keeps: ``value`` exactly, or (``exact=False``) more
    than ``value - 1``: a count that stopped at its limit, so it never read further."""

    value: int
    exact: bool = True


@dataclass(frozen=True)
class StreamFilter:
    """What the stream listing keeps (:meth:`EventStoreBackend.count_streams` and
    :meth:`~EventStoreBackend.stream_span`): streams of ``aggregate_type``, with an id starting
    with ``id_prefix`` (case-sensitive), last appended to in ``[since, until)`` (aware
    datetimes; backends with ``streams_by_time`` only). None keeps everything on that axis."""

    aggregate_type: str | None = None
    id_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class FeedFilter:
    """What :meth:`EventStoreBackend.read_feed` keeps: events of ``event_type``, of streams
    of ``aggregate_type``, carrying ``correlation_id``, stamped at or after ``since`` and
    before ``until`` (aware datetimes). None keeps everything on that axis."""

    event_type: str | None = None
    aggregate_type: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, event: StoredEvent) -> bool:
        """Whether ``event`` passes every given condition (the filter in memory)."""
        return (
            (self.event_type is None or event.event_type == self.event_type)
            and (self.aggregate_type is None or event.aggregate_type == self.aggregate_type)
            and (self.correlation_id is None or event.correlation_id == self.correlation_id)
            and (self.since is None or event.timestamp >= self.since)
            and (self.until is None or event.timestamp < self.until)
        )


@dataclass(frozen=True)
class EventPage:
    """One keyset page of the global feed, newest first: pass ``older_cursor`` as
    ``before=`` and ``newer_cursor`` as ``after=`` for the neighbouring pages (None: none)."""

    events: list[StoredEvent]
    older_cursor: int | None
    newer_cursor: int | None


@dataclass(slots=True)
class NewEvent:
    """One event to append, already checked and serialised by the facade.

    ``payload_json`` is ``payload`` encoded once with ``json.dumps``; backends write it
    as is. ``metadata_json`` is ``"{}"`` when there is no extra metadata.
    """

    event_type: str
    payload: dict[str, Any]
    payload_json: str
    event_id: uuid.UUID
    schema_version: int = 1
    correlation_id: str = ""
    causation_id: str = ""
    user_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    metadata_json: str = "{}"

    def stored(
        self,
        aggregate_id: str,
        aggregate_type: str,
        sequence: int,
        position: int,
        timestamp: datetime,
    ) -> StoredEvent:
        """This event as the backend stored it at ``sequence`` / ``position``."""
        return StoredEvent(
            aggregate_id,
            aggregate_type,
            sequence,
            self.event_type,
            self.payload,
            position,
            self.event_id,
            timestamp,
            self.schema_version,
            self.correlation_id,
            self.causation_id,
            self.user_id,
            self.metadata,
        )


class EventStoreBackend(ABC):
    """Where events, stream heads and snapshots live.

    Every method is atomic on its own. Implementations must check ``expected_seq`` inside
    the storage (a conditional write), never by reading first and writing afterwards.
    """

    #: Short name used in settings and messages ("django", "redis", "memory").
    name: str = ""
    #: True when a position becomes visible only after every lower position that will ever
    #: exist is visible (appends commit in position order), so a hole in the positions is
    #: final (a rolled-back append). False: a hole may be an append still in flight, and
    #: projection workers wait for it up to ``projection_gap_timeout`` before skipping it.
    positions_commit_in_order: bool = False

    @abstractmethod
    def append(
        self,
        aggregate_id: str,
        aggregate_type: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int | None,
        timestamp: datetime,
    ) -> list[StoredEvent]:
        """Append all ``events`` to the stream or none; raise ConcurrencyConflict when
        ``expected_seq`` is given and is not the stream's current head."""

    @abstractmethod
    def load(
        self, aggregate_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of one stream with sequence > ``after_seq`` in order, at most ``limit``;
        an unknown stream gives an empty list."""

    @abstractmethod
    def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events of every stream with position > ``after_position`` in position order; a
        follower that passes the last position it saw never skips a committed event."""

    @abstractmethod
    def read_feed(
        self,
        feed_filter: FeedFilter,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        """Events of every stream that pass ``feed_filter``, newest (highest position)
        first, at most ``limit``: below position ``before`` when given, else the ``limit``
        matching events just above ``after`` (still newest first). A page seeks an index of
        the filter's event type, aggregate type or correlation id (the most selective one
        given) from the cursor, never reading the whole store; a time bound alone is checked
        on the events walked from the cursor."""

    @abstractmethod
    def head_position(self) -> int:
        """The highest global position stored (0 when empty)."""

    @abstractmethod
    def stream_head(self, aggregate_id: str) -> int:
        """The last sequence of one stream (0 for an unknown stream)."""

    @abstractmethod
    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Store ``snapshot``; saving the same (aggregate, sequence) again replaces it."""

    @abstractmethod
    def load_snapshot(self, aggregate_id: str, *, max_seq: int | None = None) -> Snapshot | None:
        """The latest snapshot of the stream (with sequence ≤ ``max_seq`` when given)."""

    @abstractmethod
    def list_streams(
        self,
        *,
        aggregate_type: str | None = None,
        id_prefix: str | None = None,
        before: str | None = None,
        after: str | None = None,
        limit: int = 100,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[StreamInfo]:
        """Streams most recently appended to first, at most ``limit``: of ``aggregate_type``
        and with an id starting with ``id_prefix`` (case-sensitive) when given; ``before``
        (a :attr:`StreamInfo.cursor`) keeps the streams listed after that one, ``after`` the
        ``limit`` streams listed just before it (still newest first). A stream keeps the
        aggregate type of its first append. A page costs an index seek, never a scan of
        every stream; an ``id_prefix`` costs the streams it matches. A malformed cursor raises
        ValidationError naming ``before`` or ``after``.

        ``since`` / ``until`` (aware datetimes) keep the streams whose last append is in
        ``[since, until)``; only backends with :attr:`streams_by_time` take them (the facade
        passes them only when given, so a backend without them keeps working)."""

    #: Whether :meth:`list_streams`, :meth:`count_streams` and :meth:`stream_span` filter by
    #: the time of the last append (``since`` / ``until``). Redis keys its stream listing
    #: by position only, so it cannot without reading every stream, and says False.
    streams_by_time: bool = False

    def count_streams(
        self, aggregate_types: Sequence[str | None], where: StreamFilter, *, limit: int = 10_000
    ) -> list[StreamCount] | None:
        """For each entry of ``aggregate_types`` (a type, or None for every type), how many
        streams :meth:`list_streams` keeps with ``where`` of that type: exact, or, where
        counting would read more than ``limit`` index entries, ``limit + 1`` marked inexact.
        None when the backend cannot count without reading every stream (the default, so a
        backend that does not implement it is never asked to scan)."""
        return None

    def stream_span(self, where: StreamFilter) -> tuple[datetime, datetime] | None:
        """The earliest and latest last-append times of the streams ``where`` keeps (what a
        date hierarchy offers), None when no stream matches or the backend has no
        :attr:`streams_by_time`."""
        return None

    @abstractmethod
    def stream_info(self, aggregate_id: str) -> StreamInfo | None:
        """The stream's listing entry, or None for an unknown stream."""

    @abstractmethod
    def aggregate_types(self) -> list[str]:
        """The distinct aggregate types of the stored streams, sorted (without reading
        every stream)."""

    @abstractmethod
    def list_snapshots(self, aggregate_id: str, *, limit: int = 20) -> list[Snapshot]:
        """The stream's snapshots, highest sequence first, at most ``limit``."""

    def after_commit(self, func: Callable[[], None]) -> None:
        """Run ``func`` once the append is durable (immediately, unless transactional)."""
        func()

    def count_after(self, after_position: int, event_types: Sequence[str] = ()) -> int:
        """How many events have a position > ``after_position`` (of ``event_types`` if given)."""
        count = 0
        position = after_position
        wanted = set(event_types)
        while batch := self.read_all(after_position=position, limit=1000):
            count += sum(1 for e in batch if not wanted or e.event_type in wanted)
            position = batch[-1].position
        return count

    def position_before(self, timestamp: datetime) -> int:
        """The position of the last event appended before ``timestamp`` (0: none), for
        rewinding a projection to a point in time."""
        found = 0
        position = 0
        while batch := self.read_all(after_position=position, limit=1000):
            found = max([found, *(e.position for e in batch if e.timestamp < timestamp)])
            position = batch[-1].position
        return found

    def stream_keys_after(
        self, after_position: int, event_types: Sequence[str] = (), *, limit: int = 100_000
    ) -> list[tuple[int, str]]:
        """``(position, aggregate_id)`` of the events after ``after_position`` (of
        ``event_types`` if given), at most ``limit``: what a projection's per-segment lag
        is counted from."""
        wanted = set(event_types)
        keys: list[tuple[int, str]] = []
        position = after_position
        while len(keys) < limit and (batch := self.read_all(after_position=position, limit=1000)):
            keys.extend(
                (e.position, e.aggregate_id) for e in batch if not wanted or e.event_type in wanted
            )
            position = batch[-1].position
        return keys[:limit]
