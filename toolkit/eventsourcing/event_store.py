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
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from toolkit.core.exceptions import ValidationError
from toolkit.eventsourcing import handlers as _handlers
from toolkit.eventsourcing.context import current_context, user_id_of
from toolkit.eventsourcing.schemas import SchemaRegistry
from toolkit.eventsourcing.store import (
    EventStoreBackend,
    NewEvent,
    Snapshot,
    StoredEvent,
    StreamInfo,
)
from toolkit.eventsourcing.upcasting import UpcasterRegistry
from toolkit.eventsourcing.upcasting import upcasters as default_upcasters

_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_uuid4 = uuid.uuid4


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
        return self.append_batch(
            aggregate_id,
            aggregate_type,
            [EventData(event_type, payload if payload is not None else {}, metadata)],
            expected_seq,
            correlation_id=correlation_id,
            causation_id=causation_id,
            user=user,
            force_validate=force_validate,
        )[0]

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
        aggregate_id = _check_name("aggregate_id", aggregate_id)
        aggregate_type = _check_name("aggregate_type", aggregate_type)
        if expected_seq is not None and (
            not isinstance(expected_seq, int) or isinstance(expected_seq, bool) or expected_seq < 0
        ):
            raise ValidationError(
                f"expected_seq must be None or an integer ≥ 0, not {expected_seq!r}",
                field="expected_seq",
                value=expected_seq,
            )
        ctx = current_context()
        correlation = correlation_id if correlation_id is not None else ctx.correlation_id
        causation = causation_id if causation_id is not None else ctx.causation_id
        user_id = user_id_of(user) if user is not None else ctx.user_id
        schemas = self.schemas
        validate = self.validate or force_validate
        add_version = self.add_schema_version
        base = expected_seq or 0
        prepared: list[NewEvent] = []
        for index, item in enumerate(events, 1):
            if isinstance(item, EventData):
                event_type, payload, metadata = item.event_type, item.payload, item.metadata
            else:
                event_type, payload = item
                metadata = None
            event_type = _check_name("event_type", event_type)
            if not isinstance(payload, Mapping):
                raise ValidationError(
                    f"{event_type}: payload must be a dict, not {type(payload).__name__}",
                    field="payload",
                    value=payload,
                )
            version = schemas.current_version(aggregate_type, event_type) if schemas.schemas else 1
            if add_version:
                payload = {**payload, "schema_version": version}
            event_id = _uuid4()
            if validate:
                schemas.validate(
                    aggregate_type,
                    event_type,
                    payload,
                    envelope={
                        "entity_id": aggregate_id,
                        "entity_version": base + index,
                        "domain_event_id": str(event_id),
                    },
                    require=force_validate,
                )
            payload_json = _encode(event_type, payload, "payload")
            meta = dict(metadata) if metadata else {}
            prepared.append(
                NewEvent(
                    event_type,
                    dict(payload),
                    payload_json,
                    event_id,
                    version,
                    correlation or "",
                    causation or "",
                    user_id,
                    meta,
                    _encode(event_type, meta, "metadata") if meta else "{}",
                )
            )
        if not prepared:
            return []
        if not correlation:
            first = str(prepared[0].event_id)
            for event in prepared:
                event.correlation_id = first
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
        return self.upcasters.upcast_all(
            self.backend.load(aggregate_id, after_seq=after_seq, limit=limit)
        )

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """The global feed: events of every stream after ``after_position``, in position
        order. Tail it by passing the last position you saw; no event is ever skipped."""
        return self.upcasters.upcast_all(
            self.backend.read_all(after_position=after_position, limit=limit)
        )

    def head_position(self) -> int:
        """The highest global position (0 when the store is empty)."""
        return self.backend.head_position()

    def stream_head(self, aggregate_id: str) -> int:
        """The last sequence of a stream (0 for an unknown one)."""
        return self.backend.stream_head(aggregate_id)

    def streams(self, *, aggregate_type: str | None = None, limit: int = 100) -> list[StreamInfo]:
        """The streams most recently appended to first (of ``aggregate_type`` when given),
        at most ``limit``: aggregate id, type, last sequence and last append time. Every
        backend keeps this list (the Django one in the ``EventStream`` table)."""
        return self.backend.list_streams(aggregate_type=aggregate_type, limit=limit)

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
        """Store the folded ``state`` of an aggregate at sequence ``seq``."""
        _encode("snapshot", state, "state")
        snapshot = Snapshot(aggregate_id, seq, dict(state), aggregate_type)
        self.backend.save_snapshot(snapshot)
        return snapshot

    def load_snapshot(self, aggregate_id: str, *, max_seq: int | None = None) -> Snapshot | None:
        """The latest snapshot of the aggregate (at or before ``max_seq``), or None."""
        return self.backend.load_snapshot(aggregate_id, max_seq=max_seq)

    def replay_log(self, aggregate_id: str) -> str:
        """One line per event, ``seq=1 type=OrderCreated``; empty for an unknown aggregate."""
        return "\n".join(f"seq={e.sequence} type={e.event_type}" for e in self.load(aggregate_id))


def _check_name(name: str, value: Any) -> str:
    if isinstance(value, str) and value and len(value) <= 255:
        return value
    raise ValidationError(
        f"{name} must be a non-empty string of at most 255 characters, not {value!r}",
        field=name,
        value=value,
    )


def _encode(event_type: str, value: Mapping[str, Any], what: str) -> str:
    try:
        return _dumps(value)
    except (TypeError, ValueError) as exc:
        path, bad = _find_unserialisable(value)
        where = ".".join(path) or what
        raise ValidationError(
            f"{event_type}: {what} is not JSON-serialisable at {where!r}: "
            f"{bad!r} ({type(bad).__name__})",
            field=where,
            value=bad,
        ) from exc


def _find_unserialisable(value: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], Any]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str | int | float | bool) and key is not None:
                return (*path, repr(key)), key
            found = _find_unserialisable(item, (*path, str(key)))
            if found[1] is not _OK:
                return found
        return (), _OK
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find_unserialisable(item, (*path, str(index)))
            if found[1] is not _OK:
                return found
        return (), _OK
    try:
        _dumps(value)
    except (TypeError, ValueError):
        return path, value
    return (), _OK


_OK = object()

__all__ = ["EventData", "EventStore"]
