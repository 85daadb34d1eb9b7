"""EventStore: the append-only domain event log of the seed API.

.. code-block:: python

    from toolkit.patterns import EventStore

    store = EventStore()
    store.append("order-42", "Order", "OrderCreated", {"user_id": 42, "total": 99.99})
    store.append("order-42", "Order", "OrderPaid", {"method": "card"}, expected_seq=1)
    events = store.load("order-42")
    print(store.replay_log("order-42"))

The facade checks and serialises payloads once (``json.dumps``), validates them against their
schema when enabled, stamps the envelope (UUID, timestamp, schema version, correlation and
causation ids, acting user), hands the batch to a backend
(:class:`~toolkit.eventsourcing.store.EventStoreBackend`) and upcasts old events on load.
``EventStore()`` picks the backend from ``TOOLKIT["patterns"]["event_store_backend"]``;
``EventStore(backend=...)`` takes one explicitly and reads no settings.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from toolkit.core.exceptions import ValidationError
from toolkit.core.validation import check_int, check_json, check_text, encoded_json
from toolkit.eventsourcing import handlers as _handlers
from toolkit.eventsourcing.context import current_context, user_id_of
from toolkit.eventsourcing.schemas import SchemaRegistry
from toolkit.eventsourcing.store import (
    EventPage,
    EventStoreBackend,
    FeedFilter,
    NewEvent,
    Snapshot,
    StoredEvent,
    StreamCount,
    StreamFilter,
    StreamInfo,
    StreamPage,
)
from toolkit.eventsourcing.upcasting import UpcasterRegistry
from toolkit.eventsourcing.upcasting import upcasters as default_upcasters

_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_UUID = uuid.UUID
_new_object = object.__new__
_set_slot = object.__setattr__
_urandom = os.urandom
_from_bytes = int.from_bytes
# uuid.UUID(bytes=..., version=4) sets these bits: the RFC 4122 variant and version 4.
_V4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_V4_SET = (0x8000 << 48) | (4 << 76)
_SAFE_UNKNOWN = uuid.SafeUUID.unknown
# A keyset listing's rows and their cursors (streams: "<µs>_<id>" strings; events: positions).
_Row = TypeVar("_Row")
_Cursor = TypeVar("_Cursor")


def _uuid4() -> uuid.UUID:
    """``uuid.uuid4()`` without ``UUID.__init__``'s argument parsing (a third of its cost):
    the same 122 random bits from ``os.urandom`` and version/variant bits, set on the two
    slots ``UUID.__init__`` sets."""
    value = _new_object(_UUID)
    _set_slot(value, "int", (_from_bytes(_urandom(16), "big") & _V4_CLEAR) | _V4_SET)
    _set_slot(value, "is_safe", _SAFE_UNKNOWN)
    return value


@dataclass(frozen=True)
class EventData:
    """One event of a batch for :meth:`EventStore.append_batch`."""

    event_type: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] | None = None


class EventStore:
    """Append, load and replay domain events; see the module docstring for an example.

    Arguments (all optional): ``backend`` (default: from settings), ``schemas`` (a
    :class:`SchemaRegistry`; default: the project's schema files when the backend comes from
    settings), ``validate`` (validate payloads on append; default: the
    ``validate_on_append`` setting), ``upcasters`` (default: the process registry).
    """

    def __init__(
        self,
        backend: EventStoreBackend | None = None,
        *,
        schemas: SchemaRegistry | None = None,
        validate: bool | None = None,
        upcasters: UpcasterRegistry | None = None,
        add_schema_version: bool | None = None,
    ) -> None:
        if backend is None:
            from toolkit.eventsourcing import config

            options = config.es_settings()
            backend = config.default_backend()
            schemas = schemas if schemas is not None else config.schema_registry()
            validate = options["validate_on_append"] if validate is None else validate
            if add_schema_version is None:
                add_schema_version = options["add_schema_version"]
        self.backend = backend
        self.schemas = schemas if schemas is not None else SchemaRegistry()
        self.validate = bool(validate)
        self.add_schema_version = bool(add_schema_version)
        self.upcasters = upcasters if upcasters is not None else default_upcasters
        self._projections: list[tuple[str, Callable[[StoredEvent], Any]]] = []

    # -- writing -------------------------------------------------------------------------

    def append(
        self,
        aggregate_id: str,
        aggregate_type: str,
        event_type: str,
        payload: Mapping[str, Any] | None = None,
        expected_seq: int | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        user: Any = None,
        force_validate: bool = False,
    ) -> StoredEvent:
        """Append one event and return it as stored.

        Raises ConcurrencyConflict when ``expected_seq`` is given and the stream's head is
        another sequence, and ValidationError (naming the event type and field) for a payload
        that is not JSON-serialisable or fails its schema; nothing is written then.
        ``force_validate=True`` (djangoevents' ``store_event(..., force_validate=True)``)
        validates this call even when validation is off, and requires the event's schema file.
        """
        # One event (the common case) skips the batch's generic loop and EventData.
        aggregate_id, aggregate_type, correlation, causation, user_id = self._envelope(
            aggregate_id, aggregate_type, expected_seq, correlation_id, causation_id, user
        )
        event = self._new_event(
            aggregate_id,
            aggregate_type,
            event_type,
            payload if payload is not None else {},
            metadata,
            (expected_seq or 0) + 1,
            correlation,
            causation,
            user_id,
            force_validate,
        )
        if not correlation:
            event.correlation_id = str(event.event_id)
        return self._store(aggregate_id, aggregate_type, [event], expected_seq)[0]

    def append_batch(
        self,
        aggregate_id: str,
        aggregate_type: str,
        events: Iterable[EventData | tuple[str, Mapping[str, Any]]],
        expected_seq: int | None = None,
        *,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        user: Any = None,
        force_validate: bool = False,
    ) -> list[StoredEvent]:
        """Append several events to one stream atomically: all of them or none.

        ``events`` holds :class:`EventData` or ``(event_type, payload)`` pairs. Without a
        correlation id (argument or :func:`~toolkit.eventsourcing.context.event_context`),
        the first event's id correlates the batch. ``force_validate`` as in :meth:`append`.
        """
        aggregate_id, aggregate_type, correlation, causation, user_id = self._envelope(
            aggregate_id, aggregate_type, expected_seq, correlation_id, causation_id, user
        )
        base = expected_seq or 0
        new_event = self._new_event
        prepared: list[NewEvent] = []
        for index, item in enumerate(events, 1):
            if isinstance(item, EventData):
                event_type, payload, metadata = item.event_type, item.payload, item.metadata
            else:
                event_type, payload = item
                metadata = None
            prepared.append(
                new_event(
                    aggregate_id,
                    aggregate_type,
                    event_type,
                    payload,
                    metadata,
                    base + index,
                    correlation,
                    causation,
                    user_id,
                    force_validate,
                )
            )
        if not prepared:
            return []
        if not correlation:
            first = str(prepared[0].event_id)
            for event in prepared:
                event.correlation_id = first
        return self._store(aggregate_id, aggregate_type, prepared, expected_seq)

    def _envelope(
        self,
        aggregate_id: Any,
        aggregate_type: Any,
        expected_seq: Any,
        correlation_id: Any,
        causation_id: Any,
        user: Any,
    ) -> tuple[str, str, str, str, str]:
        """The checked stream names and the correlation, causation and user ids of an append
        (arguments first, then the :func:`~toolkit.eventsourcing.context.event_context`)."""
        # Every rule of toolkit.core.validation is checked here and in _new_event, before the
        # backend sees anything, so all backends refuse the same input and a refused append
        # writes nothing.
        ctx = current_context()
        correlation = correlation_id if correlation_id is not None else ctx.correlation_id
        causation = causation_id if causation_id is not None else ctx.causation_id
        user_id = user_id_of(user) if user is not None else ctx.user_id
        # The common case in one expression (check_text's own fast path for five values,
        # without five calls): str values of allowed length, ASCII (so valid UTF-8), no NUL.
        if (
            aggregate_id.__class__ is str
            and aggregate_type.__class__ is str
            and correlation.__class__ is str
            and causation.__class__ is str
            and user_id.__class__ is str
            and 0 < len(aggregate_id) <= NAME_LENGTH
            and 0 < len(aggregate_type) <= NAME_LENGTH
            and len(correlation) <= ID_LENGTH
            and len(causation) <= ID_LENGTH
            and len(user_id) <= NAME_LENGTH
        ):
            joined = aggregate_id + aggregate_type + correlation + causation + user_id
            if joined.isascii() and "\x00" not in joined:
                check_int("expected_seq", expected_seq, allow_none=True)
                return aggregate_id, aggregate_type, correlation, causation, user_id
        aggregate_id = _check_name("aggregate_id", aggregate_id)
        aggregate_type = _check_name("aggregate_type", aggregate_type)
        check_int("expected_seq", expected_seq, allow_none=True)
        return (
            aggregate_id,
            aggregate_type,
            check_text("correlation_id", correlation, max_length=ID_LENGTH),
            check_text("causation_id", causation, max_length=ID_LENGTH),
            check_text("user_id", user_id, max_length=NAME_LENGTH),
        )

    def _new_event(
        self,
        aggregate_id: str,
        aggregate_type: str,
        event_type: Any,
        payload: Any,
        metadata: Any,
        entity_version: int,
        correlation: str,
        causation: str,
        user_id: str,
        force_validate: bool,
    ) -> NewEvent:
        """One event checked, validated (when on) and serialised for the backend."""
        if not (
            event_type.__class__ is str
            and 0 < len(event_type) <= NAME_LENGTH
            and event_type.isascii()
            and "\x00" not in event_type
        ):
            event_type = _check_name("event_type", event_type)
        if not isinstance(payload, Mapping):
            raise ValidationError(
                f"{event_type}: payload must be a dict, not {type(payload).__name__}",
                field="payload",
                value=payload,
            )
        if metadata is not None and not isinstance(metadata, Mapping):
            raise ValidationError(
                f"{event_type}: metadata must be a dict, not {type(metadata).__name__}",
                field="metadata",
                value=metadata,
            )
        # Stored as a copy; checked in one pass over the encoder's output, and walked as
        # given (so a cycle through the root is seen) only when that pass is not enough.
        given = payload if isinstance(payload, dict) else dict(payload)
        payload = dict(payload)
        schemas = self.schemas
        version = schemas.current_version(aggregate_type, event_type) if schemas.schemas else 1
        if self.add_schema_version:
            payload = {**payload, "schema_version": version}
        payload_json = encoded_json(payload, _dumps, what="payload", owner=event_type, given=given)
        event_id = _uuid4()
        if self.validate or force_validate:
            schemas.validate(
                aggregate_type,
                event_type,
                payload,
                envelope={
                    "entity_id": aggregate_id,
                    "entity_version": entity_version,
                    "domain_event_id": str(event_id),
                },
                require=force_validate,
            )
        meta = dict(metadata) if metadata else {}
        meta_json = encoded_json(meta, _dumps, what="metadata", owner=event_type) if meta else "{}"
        return NewEvent(
            event_type,
            payload,
            payload_json,
            event_id,
            version,
            correlation or "",
            causation or "",
            user_id,
            meta,
            meta_json,
        )

    def _store(
        self,
        aggregate_id: str,
        aggregate_type: str,
        prepared: list[NewEvent],
        expected_seq: int | None,
    ) -> list[StoredEvent]:
        """Hand the prepared events to the backend; dispatch handlers after commit."""
        stored = self.backend.append(
            aggregate_id,
            aggregate_type,
            prepared,
            expected_seq=expected_seq,
            timestamp=datetime.now(UTC),
        )
        if self._projections or _handlers.has_handlers():
            extra = list(self._projections)
            self.backend.after_commit(lambda: _handlers.dispatch(stored, extra))
        return stored

    # -- reading -------------------------------------------------------------------------

    def load(
        self, aggregate_id: str, after_seq: int = 0, *, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events of one stream after ``after_seq`` (at most ``limit``), upcast to their
        current schema version; an unknown aggregate gives ``[]``."""
        _check_name("aggregate_id", aggregate_id)
        check_int("after_seq", after_seq)
        check_int("limit", limit, allow_none=True)
        return self.upcasters.upcast_all(
            self.backend.load(aggregate_id, after_seq=after_seq, limit=limit)
        )

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """The global feed: events of every stream after ``after_position``, in position
        order. Tail it by passing the last position you saw; no event is ever skipped."""
        check_int("after_position", after_position)
        check_int("limit", limit)
        return self.upcasters.upcast_all(
            self.backend.read_all(after_position=after_position, limit=limit)
        )

    def head_position(self) -> int:
        """The highest global position (0 when the store is empty)."""
        return self.backend.head_position()

    def stream_head(self, aggregate_id: str) -> int:
        """The last sequence of a stream (0 for an unknown one)."""
        return self.backend.stream_head(_check_name("aggregate_id", aggregate_id))

    def streams(
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
        """The streams most recently appended to first, at most ``limit``: aggregate id,
        type, last sequence and last append time. Filter by ``aggregate_type``, by
        ``id_prefix`` (ids starting with it, case-sensitive) and, on a backend with
        :attr:`streams_by_time`, by a last append in ``[since, until)``; page with ``before=``
        / ``after=`` a :attr:`StreamInfo.cursor`. Every backend keeps this list indexed (the
        Django one in the ``EventStream`` table), so a page never reads every stream."""
        filters = self._stream_filters(aggregate_type, id_prefix, since, until)
        for name, cursor in (("before", before), ("after", after)):
            if cursor is not None:
                check_text(name, cursor, max_length=NAME_LENGTH + 64, allow_empty=False)
        if before is not None and after is not None:
            raise ValidationError(
                "before and after cannot be used together", field="after", value=after
            )
        check_int("limit", limit, maximum=MAX_PAGE)
        return self.backend.list_streams(**filters, before=before, after=after, limit=limit)

    @property
    def streams_by_time(self) -> bool:
        """Whether the stream listing filters by the time of the last append (``since`` /
        ``until``): True on the Django and memory backends, False on Redis."""
        return self.backend.streams_by_time

    def _stream_filters(
        self, aggregate_type: Any, id_prefix: Any, since: Any, until: Any
    ) -> dict[str, Any]:
        """The checked listing filters as backend keywords (the time ones only when given,
        so a backend written before them keeps working)."""
        if aggregate_type is not None:
            _check_name("aggregate_type", aggregate_type)
        if id_prefix is not None:
            check_text("id_prefix", id_prefix, max_length=NAME_LENGTH)
        filters: dict[str, Any] = {"aggregate_type": aggregate_type, "id_prefix": id_prefix or None}
        for name, moment in (("since", since), ("until", until)):
            if moment is None:
                continue
            if not isinstance(moment, datetime) or moment.tzinfo is None:
                raise ValidationError(
                    f"{name} must be an aware datetime, not {moment!r}", field=name, value=moment
                )
            if not self.backend.streams_by_time:
                raise ValidationError(
                    f"{name}: the {self.backend.name or 'configured'} event store does not list "
                    "streams by time",
                    field=name,
                    value=moment,
                )
            filters[name] = moment
        return filters

    def count_streams(
        self,
        aggregate_types: Iterable[str | None] = (None,),
        *,
        id_prefix: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 10_000,
    ) -> list[StreamCount] | None:
        """How many streams :meth:`streams` lists with these filters, for each entry of
        ``aggregate_types`` (a type, or None for all; default: one count of all), in one
        read: exact, or ``limit + 1`` marked inexact where the backend would read more than
        ``limit`` index entries (Django); Redis and memory count exactly. None when the
        backend cannot count without reading every stream."""
        kinds = list(aggregate_types)
        for kind in kinds:
            if kind is not None:
                _check_name("aggregate_type", kind)
        where = StreamFilter(**self._stream_filters(None, id_prefix, since, until))
        check_int("limit", limit, minimum=1)
        return self.backend.count_streams(kinds, where, limit=limit)

    def stream_span(
        self,
        *,
        aggregate_type: str | None = None,
        id_prefix: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[datetime, datetime] | None:
        """The earliest and latest last-append times of the streams these filters keep
        (what a date hierarchy spans): two index seeks on Django; None when no stream
        matches or the backend has no :attr:`streams_by_time` (Redis)."""
        where = StreamFilter(**self._stream_filters(aggregate_type, id_prefix, since, until))
        if not self.backend.streams_by_time:
            return None
        return self.backend.stream_span(where)

    def stream_page(
        self,
        *,
        aggregate_type: str | None = None,
        id_prefix: str | None = None,
        before: str | None = None,
        after: str | None = None,
        limit: int = 50,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> StreamPage:
        """One keyset page of :meth:`streams` with the cursors of its neighbours: the page
        of older streams than ``before``, of newer ones than ``after``, or the first page.
        Reads ``limit + 1`` streams to know whether a further page exists, never a count."""
        check_int("limit", limit, minimum=1, maximum=MAX_PAGE - 1)
        filters: dict[str, Any] = {"aggregate_type": aggregate_type, "id_prefix": id_prefix}
        filters.update({k: v for k, v in (("since", since), ("until", until)) if v is not None})

        def read(**cursor: Any) -> list[StreamInfo]:
            return self.streams(**filters, **cursor)

        return StreamPage(*_keyset_page(read, _stream_cursor, before, after, limit))

    def feed(
        self,
        *,
        event_type: str | None = None,
        aggregate_type: str | None = None,
        correlation_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: int | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        """The all-events feed newest first, at most ``limit``, upcast: events of
        ``event_type``, of ``aggregate_type`` streams, of ``correlation_id``, stamped in
        ``[since, until)`` (aware datetimes), each when given; below position ``before`` or
        the ``limit`` matching events just above ``after``. Every backend seeks an index of
        the filter from the cursor (see :meth:`EventStoreBackend.read_feed`)."""
        feed_filter = _feed_filter(event_type, aggregate_type, correlation_id, since, until)
        check_int("before", before, allow_none=True)
        check_int("after", after, allow_none=True)
        if before is not None and after is not None:
            raise ValidationError(
                "before and after cannot be used together", field="after", value=after
            )
        check_int("limit", limit, maximum=MAX_PAGE)
        return self.upcasters.upcast_all(
            self.backend.read_feed(feed_filter, before=before, after=after, limit=limit)
        )

    def feed_page(
        self,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 50,
        **filters: Any,
    ) -> EventPage:
        """One keyset page of :meth:`feed` (``filters``: its filter keywords) with the
        cursors of its neighbours: older than ``before``, newer than ``after``, or the
        newest page. Reads ``limit + 1`` events to know whether a further page exists."""
        check_int("limit", limit, minimum=1, maximum=MAX_PAGE - 1)

        def read(**cursor: Any) -> list[StoredEvent]:
            return self.feed(**filters, **cursor)

        return EventPage(*_keyset_page(read, _event_position, before, after, limit))

    def stream(self, aggregate_id: str) -> StreamInfo | None:
        """The listing entry of one stream (type, head, last append), or None."""
        return self.backend.stream_info(_check_name("aggregate_id", aggregate_id))

    def aggregate_types(self) -> list[str]:
        """The aggregate types of the stored streams, sorted (one index probe per type on
        the Django backend, a set on Redis and in memory)."""
        return self.backend.aggregate_types()

    # -- projections, snapshots, replay --------------------------------------------------

    def project(
        self, event_type: str, handler: Callable[[StoredEvent], Any], *, replay: bool = False
    ) -> None:
        """Call ``handler`` with every event of ``event_type`` appended through this store
        from now on (after commit); ``replay=True`` first feeds it the stored ones."""
        self._projections.append((event_type, handler))
        if replay:
            position = 0
            while batch := self.read_all(position, 1000):
                for event in batch:
                    if event.event_type == event_type:
                        handler(event)
                position = batch[-1].position

    def save_snapshot(
        self,
        aggregate_id: str,
        state: Mapping[str, Any],
        seq: int,
        *,
        aggregate_type: str = "",
    ) -> Snapshot:
        """Store the folded ``state`` of an aggregate at sequence ``seq`` (≥ 1)."""
        _check_name("aggregate_id", aggregate_id)
        check_int("seq", seq, minimum=1)
        check_text("aggregate_type", aggregate_type, max_length=NAME_LENGTH)
        if not isinstance(state, Mapping):
            raise ValidationError(
                f"snapshot: state must be a dict, not {type(state).__name__}",
                field="state",
                value=state,
            )
        check_json(dict(state), what="state", owner="snapshot")
        snapshot = Snapshot(aggregate_id, seq, dict(state), aggregate_type)
        self.backend.save_snapshot(snapshot)
        return snapshot

    def load_snapshot(self, aggregate_id: str, *, max_seq: int | None = None) -> Snapshot | None:
        """The latest snapshot of the aggregate (at or before ``max_seq``), or None."""
        _check_name("aggregate_id", aggregate_id)
        check_int("max_seq", max_seq, allow_none=True)
        return self.backend.load_snapshot(aggregate_id, max_seq=max_seq)

    def snapshots(self, aggregate_id: str, *, limit: int = 20) -> list[Snapshot]:
        """The aggregate's snapshots, highest sequence first, at most ``limit``."""
        _check_name("aggregate_id", aggregate_id)
        check_int("limit", limit, maximum=MAX_PAGE)
        return self.backend.list_snapshots(aggregate_id, limit=limit)

    def replay_log(self, aggregate_id: str) -> str:
        """One line per event, ``seq=1 type=OrderCreated``; empty for an unknown aggregate."""
        return "\n".join(f"seq={e.sequence} type={e.event_type}" for e in self.load(aggregate_id))


#: Length of the name columns (aggregate id and type, event type, user id).
NAME_LENGTH = 255
#: Length of the correlation and causation id columns.
ID_LENGTH = 64
#: The most streams, snapshots or events one listing call returns.
MAX_PAGE = 10_000


def _keyset_page(
    read: Callable[..., list[_Row]],
    cursor_of: Callable[[_Row], _Cursor],
    before: _Cursor | None,
    after: _Cursor | None,
    limit: int,
) -> tuple[list[_Row], _Cursor | None, _Cursor | None]:
    """The rows, older cursor and newer cursor of one keyset page of a newest-first listing.

    ``read(before=..., limit=...)`` / ``read(after=..., limit=...)`` read the listing below or
    just above a cursor. ``limit + 1`` rows are read to know whether a further page exists,
    never a count; a page above ``after`` that reaches the top becomes the full first page
    rather than a short one."""
    if after is not None:
        found = read(after=after, limit=limit + 1)
        if len(found) > limit:
            rows = found[1:]
            return rows, cursor_of(rows[-1]), cursor_of(rows[0])
        before = None
    found = read(before=before, limit=limit + 1)
    rows = found[:limit]
    older = cursor_of(rows[-1]) if len(found) > limit else None
    newer = cursor_of(rows[0]) if before is not None and rows else None
    return rows, older, newer


def _stream_cursor(info: StreamInfo) -> str:
    return info.cursor


def _event_position(event: StoredEvent) -> int:
    return event.position


def _check_name(name: str, value: Any) -> str:
    return check_text(name, value, max_length=NAME_LENGTH, allow_empty=False)


def _feed_filter(
    event_type: Any, aggregate_type: Any, correlation_id: Any, since: Any, until: Any
) -> FeedFilter:
    """The checked :class:`FeedFilter` of :meth:`EventStore.feed`'s arguments."""
    for name, value in (("event_type", event_type), ("aggregate_type", aggregate_type)):
        if value is not None:
            _check_name(name, value)
    if correlation_id is not None:
        check_text("correlation_id", correlation_id, max_length=ID_LENGTH, allow_empty=False)
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
            raise ValidationError(
                f"{name} must be an aware datetime, not {moment!r}", field=name, value=moment
            )
    return FeedFilter(event_type, aggregate_type, correlation_id, since, until)


__all__ = ["EventData", "EventStore"]
