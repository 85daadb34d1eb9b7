"""Redis event-store backend: one Lua script appends a batch atomically.

The script reads the stream head, compares it with the expected sequence **inside Redis**,
and pushes every event of the batch, or nothing: Redis runs a script without interleaving
other commands, so the check and the write cannot be separated by another client.

Keys (under ``prefix``):

- ``<prefix>:s:<aggregate_id>``: list of the stream's events (index i = sequence i + 1)
- ``<prefix>:all``: list of every event (index i = position i + 1), the global feed
- ``<prefix>:types``: hash aggregate id → aggregate type (set by the first append)
- ``<prefix>:updated``: hash aggregate id → time of the last append (ISO 8601)
- ``<prefix>:recent`` and ``<prefix>:recent:<aggregate_type>``: sorted sets of aggregate ids
  scored by the global position of their last event (the stream list, newest first; a
  stream's cursor is that position, so a page is one ``ZREVRANGEBYSCORE``)
- ``<prefix>:ids``: sorted set of every aggregate id with score 0, for prefix search
  (``ZRANGEBYLEX``)
- ``<prefix>:kinds``: set of the aggregate types
- ``<prefix>:snap:<aggregate_id>``: sorted set of snapshots scored by sequence
- ``<prefix>:f:t:<event_type>``, ``<prefix>:f:a:<aggregate_type>`` and
  ``<prefix>:f:c:<correlation_id>``: sorted sets of the positions of the events of that type,
  aggregate type or correlation id (member and score: the position), the all-events feed's
  indexes (``read_feed``); events appended before these indexes existed are not in them

Each stored entry is ``<sequence>|<position>|<envelope JSON>``; positions come from the
global list's length inside the script, so they are contiguous and commit in order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from toolkit.core.exceptions import ConcurrencyConflict, ValidationError
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

_APPEND = """
local stream, all, types, updated, recent = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local ids, kinds = KEYS[6], KEYS[7]
local expected = tonumber(ARGV[1])
local head = redis.call('LLEN', stream)
if expected >= 0 and head ~= expected then
  return {-1, head}
end
local position = redis.call('LLEN', all)
local n = tonumber(ARGV[5])
local feed = KEYS[8]
for i = 1, n do
  local seq = head + i
  local pos = position + i
  local entry = seq .. '|' .. pos .. '|' .. ARGV[5 + i]
  redis.call('RPUSH', stream, entry)
  redis.call('RPUSH', all, entry)
  redis.call('ZADD', feed .. ':t:' .. ARGV[5 + n + i], pos, pos)
  redis.call('ZADD', feed .. ':a:' .. ARGV[3], pos, pos)
  local correlation = ARGV[5 + 2 * n + i]
  if correlation ~= '' then
    redis.call('ZADD', feed .. ':c:' .. correlation, pos, pos)
  end
end
local id = ARGV[2]
redis.call('HSETNX', types, id, ARGV[3])
local kind = redis.call('HGET', types, id)
local last = position + n
redis.call('HSET', updated, id, ARGV[4])
redis.call('ZADD', recent, last, id)
redis.call('ZADD', recent .. ':' .. kind, last, id)
redis.call('ZADD', ids, 0, id)
redis.call('SADD', kinds, kind)
return {head, position}
"""


class RedisEventStoreBackend(EventStoreBackend):
    """Events in Redis (``pip install 'django-pattern-toolkit[redis]'``)."""

    name = "redis"

    def __init__(self, client: Any, *, prefix: str = "toolkit:es") -> None:
        self.client = client
        self.prefix = prefix
        self._append = client.register_script(_APPEND)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "toolkit:es") -> RedisEventStoreBackend:
        """A backend on the Redis server at ``url``."""
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - the redis extra is missing
            raise ImportError(
                "The Redis event store needs redis-py: pip install 'django-pattern-toolkit[redis]'"
            ) from exc
        return cls(redis.Redis.from_url(url), prefix=prefix)

    def _stream_key(self, aggregate_id: str) -> str:
        return f"{self.prefix}:s:{aggregate_id}"

    def append(
        self,
        aggregate_id: str,
        aggregate_type: str,
        events: Sequence[NewEvent],
        *,
        expected_seq: int | None,
        timestamp: datetime,
    ) -> list[StoredEvent]:
        if not events:
            return []
        ts = timestamp.isoformat()
        envelopes = [
            json.dumps(
                [
                    aggregate_id,
                    aggregate_type,
                    e.event_type,
                    str(e.event_id),
                    ts,
                    e.schema_version,
                    e.correlation_id,
                    e.causation_id,
                    e.user_id,
                ],
                separators=(",", ":"),
            )
            + "\n"
            + e.payload_json
            + "\n"
            + e.metadata_json
            for e in events
        ]
        head, position = self._append(
            keys=[
                self._stream_key(aggregate_id),
                f"{self.prefix}:all",
                f"{self.prefix}:types",
                f"{self.prefix}:updated",
                f"{self.prefix}:recent",
                f"{self.prefix}:ids",
                f"{self.prefix}:kinds",
                f"{self.prefix}:f",
            ],
            args=[
                -1 if expected_seq is None else expected_seq,
                aggregate_id,
                aggregate_type,
                ts,
                len(events),
                *envelopes,
                *(e.event_type for e in events),
                *(e.correlation_id for e in events),
            ],
        )
        if head == -1:
            raise ConcurrencyConflict(aggregate_id, expected_seq, int(position))
        head, position = int(head), int(position)
        return [
            e.stored(aggregate_id, aggregate_type, head + offset, position + offset, timestamp)
            for offset, e in enumerate(events, 1)
        ]

    def load(
        self, aggregate_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        start = max(after_seq, 0)
        end = -1 if limit is None else start + limit - 1
        if limit is not None and limit <= 0:
            return []
        return [
            _decode(raw) for raw in self.client.lrange(self._stream_key(aggregate_id), start, end)
        ]

    def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        if limit <= 0:
            return []
        start = max(after_position, 0)
        raws = self.client.lrange(f"{self.prefix}:all", start, start + limit - 1)
        return [_decode(raw) for raw in raws]

    def read_feed(
        self,
        feed_filter: FeedFilter,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        """The smallest of the filter's sorted sets (``ZCARD`` each) drives the walk, one
        ``ZREVRANGEBYSCORE`` (``ZRANGEBYSCORE`` from ``after``) batch at a time from the
        cursor; without one, positions count down the global list. The events of a batch are
        read in one pipeline of ``LINDEX`` and the other conditions checked on them."""
        if limit <= 0:
            return []
        keys = [
            f"{self.prefix}:f:{axis}:{value}"
            for axis, value in (
                ("t", feed_filter.event_type),
                ("a", feed_filter.aggregate_type),
                ("c", feed_filter.correlation_id),
            )
            if value is not None
        ]
        driver = None
        if keys:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.zcard(key)
            driver = min(zip(pipe.execute(), keys, strict=True))[1]
        head = self.head_position()
        low = after if after is not None else 0
        high = min(before - 1, head) if before is not None else head
        batch = max(limit, 100)
        found: list[StoredEvent] = []
        while len(found) < limit:
            positions = self._feed_batch(driver, low, high, batch, ascending=after is not None)
            if not positions:
                break
            pipe = self.client.pipeline(transaction=False)
            for position in positions:
                pipe.lindex(f"{self.prefix}:all", position - 1)
            for raw in pipe.execute():
                if raw is None:
                    continue
                event = _decode(raw)
                if feed_filter.matches(event):
                    found.append(event)
                    if len(found) == limit:
                        break
            if after is not None:
                low = positions[-1]
            else:
                high = positions[-1] - 1
        return found[::-1] if after is not None else found

    def _feed_batch(
        self, driver: str | None, low: int, high: int, count: int, *, ascending: bool
    ) -> list[int]:
        """Up to ``count`` positions in ``(low, high]`` of ``driver`` (every position when
        None), from ``low`` upwards or from ``high`` downwards."""
        if high <= low:
            return []
        if driver is None:
            if ascending:
                return list(range(low + 1, min(low + count, high) + 1))
            return list(range(high, max(high - count, low), -1))
        if ascending:
            raws = self.client.zrangebyscore(driver, f"({low}", high, start=0, num=count)
        else:
            raws = self.client.zrevrangebyscore(driver, high, f"({low}", start=0, num=count)
        return [int(raw) for raw in raws]

    def head_position(self) -> int:
        return int(self.client.llen(f"{self.prefix}:all"))

    def stream_head(self, aggregate_id: str) -> int:
        return int(self.client.llen(self._stream_key(aggregate_id)))

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
        if since is not None or until is not None:
            raise ValidationError(
                "the redis event store lists streams by position only, not by time",
                field="since" if since is not None else "until",
            )
        if limit <= 0:
            return []
        key = self._recent_key(aggregate_type)
        found: list[tuple[Any, float]]
        if id_prefix:
            found = self._prefixed(key, id_prefix, low, high, limit)
        elif low is not None:
            found = self.client.zrangebyscore(
                key, f"({low}", "+inf", start=0, num=limit, withscores=True
            )[::-1]
        else:
            top = "+inf" if high is None else f"({high}"
            found = self.client.zrevrangebyscore(
                key, top, "-inf", start=0, num=limit, withscores=True
            )
        return self._infos([(_text(agg), int(score)) for agg, score in found])

    def _recent_key(self, aggregate_type: str | None) -> str:
        key = f"{self.prefix}:recent"
        return key if aggregate_type is None else f"{key}:{aggregate_type}"

    def count_streams(
        self, aggregate_types: Sequence[str | None], where: StreamFilter, *, limit: int = 10_000
    ) -> list[StreamCount] | None:
        """``ZCARD`` of each type's listing set (exact, O(1)); with ``id_prefix``, the ids
        with the prefix (``ZRANGEBYLEX``, what a page with the prefix reads too) checked
        against each set (``ZMSCORE``). Exact either way. Not by time (None): the sets are
        scored by position."""
        if where.since is not None or where.until is not None:
            return None
        id_prefix = where.id_prefix
        keys = [self._recent_key(kind) for kind in aggregate_types]
        pipe = self.client.pipeline(transaction=False)
        if not id_prefix:
            for key in keys:
                pipe.zcard(key)
            return [StreamCount(int(n)) for n in pipe.execute()]
        ids = self._ids_with_prefix(id_prefix)
        if not ids:
            return [StreamCount(0) for _ in keys]
        for key in keys:
            pipe.zmscore(key, ids)
        return [
            StreamCount(sum(score is not None for score in scores)) for scores in pipe.execute()
        ]

    def _ids_with_prefix(self, prefix: str) -> list[Any]:
        """The stream ids starting with ``prefix``, from the lexical index (cost: the number
        of matches)."""
        raw = prefix.encode()
        # UTF-8 never contains the byte 0xff, so "[prefix\xff" bounds every id with the prefix.
        ids: list[Any] = self.client.zrangebylex(
            f"{self.prefix}:ids", b"[" + raw, b"[" + raw + b"\xff"
        )
        return ids

    def _prefixed(
        self, key: str, prefix: str, low: int | None, high: int | None, limit: int
    ) -> list[tuple[Any, float]]:
        """Streams whose id starts with ``prefix``: the matching ids from the lexical index
        (cost: the number of matches), ranked by their score in ``key``."""
        ids = self._ids_with_prefix(prefix)
        if not ids:
            return []
        scores = self.client.zmscore(key, ids)
        ranked = sorted(
            (
                (score, agg)
                for agg, score in zip(ids, scores, strict=True)
                if score is not None
                and (low is None or score > low)
                and (high is None or score < high)
            ),
            reverse=True,
        )
        window = ranked[-limit:] if low is not None else ranked[:limit]
        return [(agg, score) for score, agg in window]

    def _infos(self, ranked: list[tuple[str, int]]) -> list[StreamInfo]:
        if not ranked:
            return []
        ids = [agg for agg, _ in ranked]
        pipe = self.client.pipeline(transaction=True)
        pipe.hmget(f"{self.prefix}:types", ids)
        pipe.hmget(f"{self.prefix}:updated", ids)
        for aggregate_id in ids:
            pipe.llen(self._stream_key(aggregate_id))
        kinds, times, *heads = pipe.execute()
        return [
            StreamInfo(
                agg, _text(kind), int(head), datetime.fromisoformat(_text(updated)), str(last)
            )
            for (agg, last), kind, updated, head in zip(ranked, kinds, times, heads, strict=True)
        ]

    def stream_info(self, aggregate_id: str) -> StreamInfo | None:
        last = self.client.zscore(f"{self.prefix}:recent", aggregate_id)
        if last is None:
            return None
        found = self._infos([(aggregate_id, int(last))])
        return found[0] if found else None

    def aggregate_types(self) -> list[str]:
        return sorted(_text(kind) for kind in self.client.smembers(f"{self.prefix}:kinds"))

    def list_snapshots(self, aggregate_id: str, *, limit: int = 20) -> list[Snapshot]:
        if limit <= 0:
            return []
        key = f"{self.prefix}:snap:{aggregate_id}"
        return [_snapshot(aggregate_id, raw) for raw in self.client.zrevrange(key, 0, limit - 1)]

    def save_snapshot(self, snapshot: Snapshot) -> None:
        key = f"{self.prefix}:snap:{snapshot.aggregate_id}"
        value = json.dumps(
            [snapshot.aggregate_type, snapshot.created_at.isoformat(), snapshot.state]
        )
        pipe = self.client.pipeline(transaction=True)
        pipe.zremrangebyscore(key, snapshot.sequence, snapshot.sequence)
        pipe.zadd(key, {f"{snapshot.sequence}|{value}": snapshot.sequence})
        pipe.execute()

    def load_snapshot(self, aggregate_id: str, *, max_seq: int | None = None) -> Snapshot | None:
        key = f"{self.prefix}:snap:{aggregate_id}"
        top = "+inf" if max_seq is None else max_seq
        found = self.client.zrevrangebyscore(key, top, "-inf", start=0, num=1)
        return _snapshot(aggregate_id, found[0]) if found else None

    def clear(self) -> None:
        """Delete every key under the prefix (tests)."""
        for key in self.client.scan_iter(match=f"{self.prefix}:*", count=1000):
            self.client.delete(key)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _snapshot(aggregate_id: str, raw: bytes | str) -> Snapshot:
    sequence, _, value = _text(raw).partition("|")
    aggregate_type, created, state = json.loads(value)
    return Snapshot(
        aggregate_id, int(sequence), state, aggregate_type, datetime.fromisoformat(created)
    )


def _decode(raw: bytes | str) -> StoredEvent:
    text = raw.decode() if isinstance(raw, bytes) else raw
    seq, position, rest = text.split("|", 2)
    envelope, payload, metadata = rest.split("\n", 2)
    (agg, agg_type, event_type, event_id, ts, version, corr, cause, user) = json.loads(envelope)
    return StoredEvent(
        agg,
        agg_type,
        int(seq),
        event_type,
        json.loads(payload),
        int(position),
        event_id,
        ts,
        version,
        corr,
        cause,
        user,
        {} if metadata == "{}" else json.loads(metadata),
    )


__all__ = ["RedisEventStoreBackend"]
