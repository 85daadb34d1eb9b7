"""In-process event-store backend: dictionaries behind one lock (tests, demos, the fake)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from toolkit.core.exceptions import ConcurrencyConflict
from toolkit.eventsourcing.store import (
    EventStoreBackend,
    NewEvent,
    Snapshot,
    StoredEvent,
    StreamInfo,
)

_Row = tuple[str, str, int, str, str, int, UUID, datetime, int, str, str, str, str]


class MemoryEventStoreBackend(EventStoreBackend):
    """Keeps every event in memory; payloads are stored as JSON text so that callers can
    never mutate stored events through the dicts they passed in or got back."""

    name = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Each row: (aggregate_id, aggregate_type, sequence, event_type, payload_json,
        # position, event_id, timestamp, schema_version, correlation, causation, user, meta)
        self._all: list[_Row] = []
        self._streams: dict[str, list[int]] = {}
        self._snapshots: dict[str, dict[int, Snapshot]] = {}
        # aggregate_id -> (aggregate_type, updated_at, order of the last append)
        self._stream_info: dict[str, tuple[str, datetime, int]] = {}

    def append(
        self,
        aggregate_id: str,
        aggregate_type: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int | None,
        timestamp: datetime,
    ) -> list[StoredEvent]:
        with self._lock:
            indexes = self._streams.get(aggregate_id, [])
            head = len(indexes)
            if expected_seq is not None and expected_seq != head:
                raise ConcurrencyConflict(aggregate_id, expected_seq, head)
            stored: list[StoredEvent] = []
            new_indexes = list(indexes)
            for offset, event in enumerate(events, start=1):
                position = len(self._all) + 1
                row: _Row = (
                    aggregate_id,
                    aggregate_type,
                    head + offset,
                    event.event_type,
                    event.payload_json,
                    position,
                    event.event_id,
                    timestamp,
                    event.schema_version,
                    event.correlation_id,
                    event.causation_id,
                    event.user_id,
                    event.metadata_json,
                )
                self._all.append(row)
                new_indexes.append(position - 1)
                stored.append(
                    event.stored(aggregate_id, aggregate_type, head + offset, position, timestamp)
                )
            self._streams[aggregate_id] = new_indexes
            kind = self._stream_info.get(aggregate_id, (aggregate_type,))[0]
            self._stream_info[aggregate_id] = (kind, timestamp, len(self._all))
            return stored

    def load(
        self, aggregate_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        with self._lock:
            indexes = self._streams.get(aggregate_id, [])
            end = None if limit is None else max(after_seq, 0) + limit
            rows = [self._all[i] for i in indexes[max(after_seq, 0) : end]]
        return [_event(row) for row in rows]

    def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self._lock:
            rows = self._all[max(after_position, 0) : max(after_position, 0) + limit]
        return [_event(row) for row in rows]

    def head_position(self) -> int:
        return len(self._all)

    def stream_head(self, aggregate_id: str) -> int:
        return len(self._streams.get(aggregate_id, ()))

    def list_streams(
        self, *, aggregate_type: str | None = None, limit: int = 100
    ) -> list[StreamInfo]:
        with self._lock:
            rows = [
                (updated, order, agg, kind, len(self._streams[agg]))
                for agg, (kind, updated, order) in self._stream_info.items()
                if aggregate_type is None or kind == aggregate_type
            ]
        rows.sort(reverse=True)
        return [StreamInfo(agg, kind, head, updated) for updated, _, agg, kind, head in rows][
            : max(limit, 0)
        ]

    def save_snapshot(self, snapshot: Snapshot) -> None:
        copy = Snapshot(
            snapshot.aggregate_id,
            snapshot.sequence,
            json.loads(json.dumps(snapshot.state)),
            snapshot.aggregate_type,
            snapshot.created_at,
        )
        with self._lock:
            self._snapshots.setdefault(snapshot.aggregate_id, {})[snapshot.sequence] = copy

    def load_snapshot(self, aggregate_id: str, *, max_seq: int | None = None) -> Snapshot | None:
        with self._lock:
            snapshots = self._snapshots.get(aggregate_id, {})
            sequences = [s for s in snapshots if max_seq is None or s <= max_seq]
            if not sequences:
                return None
            found = snapshots[max(sequences)]
        return Snapshot(
            found.aggregate_id,
            found.sequence,
            json.loads(json.dumps(found.state)),
            found.aggregate_type,
            found.created_at,
        )


def _event(row: _Row) -> StoredEvent:
    (agg, agg_type, seq, etype, payload, pos, eid, ts, ver, corr, cause, user, meta) = row
    return StoredEvent(
        agg,
        agg_type,
        seq,
        etype,
        json.loads(payload),
        pos,
        eid,
        ts,
        ver,
        corr,
        cause,
        user,
        json.loads(meta),
    )
