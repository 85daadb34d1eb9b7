"""In-process event-store backend: dictionaries behind one lock (tests, demos, the fake).

The stream listing keeps its own indexes, so a page costs a binary search and a slice, not a
sort of every stream: ``_recent`` (and ``_recent_by_type`` per aggregate type) hold the
global position of every stream's last event in ascending order, ``_last`` maps that
position back to the stream, and ``_ids`` keeps the aggregate ids sorted for prefix search.
A stream's cursor is the position of its last event.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from toolkit.core.exceptions import ConcurrencyConflict
from toolkit.core.validation import decode_position_cursor
from toolkit.eventsourcing.store import (
    EventStoreBackend,
    FeedFilter,
    NewEvent,
    Snapshot,
    StoredEvent,
    StreamCount,
    StreamFilter,
    StreamInfo,
)

_Row = tuple[str, str, int, str, str, int, UUID, datetime, int, str, str, str, str]


class MemoryEventStoreBackend(EventStoreBackend):
    """Keeps every event in memory; payloads are stored as JSON text so that callers can
    never mutate stored events through the dicts they passed in or got back."""

    name = "memory"
    positions_commit_in_order = True  # one lock around every append

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Each row: (aggregate_id, aggregate_type, sequence, event_type, payload_json,
        # position, event_id, timestamp, schema_version, correlation, causation, user, meta)
        self._all: list[_Row] = []
        self._streams: dict[str, list[int]] = {}
        self._snapshots: dict[str, dict[int, Snapshot]] = {}
        # aggregate_id -> (aggregate_type, updated_at, position of its last event)
        self._stream_info: dict[str, tuple[str, datetime, int]] = {}
        # The listing's indexes (see the module docstring).
        self._recent: list[int] = []
        self._recent_by_type: dict[str, list[int]] = {}
        self._last: dict[int, str] = {}
        self._ids: list[str] = []
        # The feed's indexes: positions (ascending) per event type, aggregate type and
        # correlation id ("t", "a", "c" + the value).
        self._feed: dict[tuple[str, str], list[int]] = {}

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
                for axis, value in (
                    ("t", event.event_type),
                    ("a", aggregate_type),
                    ("c", event.correlation_id),
                ):
                    if value:
                        self._feed.setdefault((axis, value), []).append(position)
                new_indexes.append(position - 1)
                stored.append(
                    event.stored(aggregate_id, aggregate_type, head + offset, position, timestamp)
                )
            self._streams[aggregate_id] = new_indexes
            self._index_stream(aggregate_id, aggregate_type, timestamp)
            return stored

    def _index_stream(self, aggregate_id: str, aggregate_type: str, timestamp: datetime) -> None:
        """Move the stream to the top of the listing's indexes (caller holds the lock)."""
        last = len(self._all)
        info = self._stream_info.get(aggregate_id)
        if info is None:
            kind = aggregate_type
            bisect.insort(self._ids, aggregate_id)
        else:
            kind, _, previous = info
            for index in (self._recent, self._recent_by_type[kind]):
                del index[bisect.bisect_left(index, previous)]
            del self._last[previous]
        self._stream_info[aggregate_id] = (kind, timestamp, last)
        self._recent.append(last)  # the newest position: appending keeps the list sorted
        self._recent_by_type.setdefault(kind, []).append(last)
        self._last[last] = aggregate_id

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

    def read_feed(
        self,
        feed_filter: FeedFilter,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        if limit <= 0:
            return []
        axes = [
            (axis, value)
            for axis, value in (
                ("t", feed_filter.event_type),
                ("a", feed_filter.aggregate_type),
                ("c", feed_filter.correlation_id),
            )
            if value is not None
        ]
        with self._lock:
            # The smallest index given drives the walk; no index: every position.
            candidates: Sequence[int] = range(1, len(self._all) + 1)
            for key in axes:
                keyed = self._feed.get(key, [])
                if len(keyed) < len(candidates):
                    candidates = keyed
            # Walk indexes, not a slice: a slice would copy the rest of a long index.
            if after is not None:
                walk = range(bisect.bisect_right(candidates, after), len(candidates))
            else:
                end = len(candidates) if before is None else bisect.bisect_left(candidates, before)
                walk = range(end - 1, -1, -1)
            found: list[StoredEvent] = []
            for index in walk:
                event = _event(self._all[candidates[index] - 1])
                if feed_filter.matches(event):
                    found.append(event)
                    if len(found) == limit:
                        break
        return found[::-1] if after is not None else found

    def head_position(self) -> int:
        return len(self._all)

    def stream_head(self, aggregate_id: str) -> int:
        return len(self._streams.get(aggregate_id, ()))

    #: The time filter is a pass over the matching streams (this backend is for tests and
    #: demos: there is no time index to seek).
    streams_by_time = True

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
        low = decode_position_cursor("after", after)
        high = decode_position_cursor("before", before)
        if limit <= 0:
            return []
        with self._lock:
            lasts = self._lasts(aggregate_type, id_prefix, since, until)
            lo = 0 if low is None else bisect.bisect_right(lasts, low)
            hi = len(lasts) if high is None else bisect.bisect_left(lasts, high)
            # Newest first; with ``after``, the ``limit`` streams nearest above the cursor.
            window = lasts[lo : lo + limit] if low is not None else lasts[max(hi - limit, lo) : hi]
            return [self._info(self._last[last]) for last in reversed(window)]

    def _lasts(
        self,
        aggregate_type: str | None,
        id_prefix: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[int]:
        """The last positions of the streams the filters keep, ascending (caller holds the
        lock; the unfiltered lists are the indexes themselves, not copies)."""
        lasts: list[int]
        if id_prefix:
            # The ids with the prefix (a range of the sorted ids), their last positions sorted.
            ids = self._ids
            index = bisect.bisect_left(ids, id_prefix)
            lasts = []
            # Walk the matching ids in place (a slice would copy the rest of the list).
            while index < len(ids) and ids[index].startswith(id_prefix):
                kind, _, last = self._stream_info[ids[index]]
                if aggregate_type is None or kind == aggregate_type:
                    lasts.append(last)
                index += 1
            lasts.sort()
        elif aggregate_type is None:
            lasts = self._recent
        else:
            lasts = self._recent_by_type.get(aggregate_type, [])
        if since is not None or until is not None:
            info = self._stream_info
            lasts = [
                last
                for last in lasts
                if (since is None or info[self._last[last]][1] >= since)
                and (until is None or info[self._last[last]][1] < until)
            ]
        return lasts

    def count_streams(
        self, aggregate_types: Sequence[str | None], where: StreamFilter, *, limit: int = 10_000
    ) -> list[StreamCount] | None:
        """Exact: the lengths of the listing's own lists (filtered as a page is)."""
        with self._lock:
            return [
                StreamCount(len(self._lasts(kind, where.id_prefix, where.since, where.until)))
                for kind in aggregate_types
            ]

    def stream_span(self, where: StreamFilter) -> tuple[datetime, datetime] | None:
        with self._lock:
            lasts = self._lasts(where.aggregate_type, where.id_prefix, where.since, where.until)
            times = [self._stream_info[self._last[last]][1] for last in lasts]
        return (min(times), max(times)) if times else None

    def _info(self, aggregate_id: str) -> StreamInfo:
        kind, updated, last = self._stream_info[aggregate_id]
        head = len(self._streams[aggregate_id])
        return StreamInfo(aggregate_id, kind, head, updated, str(last))

    def stream_info(self, aggregate_id: str) -> StreamInfo | None:
        with self._lock:
            return self._info(aggregate_id) if aggregate_id in self._stream_info else None

    def aggregate_types(self) -> list[str]:
        with self._lock:
            return sorted(self._recent_by_type)

    def list_snapshots(self, aggregate_id: str, *, limit: int = 20) -> list[Snapshot]:
        with self._lock:
            snapshots = self._snapshots.get(aggregate_id, {})
            found = [snapshots[seq] for seq in sorted(snapshots, reverse=True)[: max(limit, 0)]]
        return [_copy(snapshot) for snapshot in found]

    def save_snapshot(self, snapshot: Snapshot) -> None:
        copy = _copy(snapshot)
        with self._lock:
            self._snapshots.setdefault(snapshot.aggregate_id, {})[snapshot.sequence] = copy

    def load_snapshot(self, aggregate_id: str, *, max_seq: int | None = None) -> Snapshot | None:
        with self._lock:
            snapshots = self._snapshots.get(aggregate_id, {})
            sequences = [s for s in snapshots if max_seq is None or s <= max_seq]
            if not sequences:
                return None
            found = snapshots[max(sequences)]
        return _copy(found)


def _copy(snapshot: Snapshot) -> Snapshot:
    """A deep copy through JSON, so callers never share state with the stored snapshot."""
    return Snapshot(
        snapshot.aggregate_id,
        snapshot.sequence,
        json.loads(json.dumps(snapshot.state)),
        snapshot.aggregate_type,
        snapshot.created_at,
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
