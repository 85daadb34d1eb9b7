"""Django event-store backend: SQLite and PostgreSQL through Django's connection.

The hot path (append, load, read_all) does not use the ORM: it runs SQL built once per
connection alias (names quoted by ``connection.ops``) on the driver's cursor of Django's
connection (so it joins Django's transactions; driver errors are translated through
``connection.wrap_database_errors``; Django's ``execute_wrapper`` hooks do not see it), writes the
payload text the facade serialised once, and turns rows into
:class:`~toolkit.eventsourcing.store.StoredEvent` in one tight loop. Loading 10,000 events
builds no model instance.

Concurrency, in the database:

- The expected-sequence check is a conditional ``UPDATE ... WHERE last_sequence = %s`` on the
  stream row (or an ``INSERT`` of the stream row, unique on ``aggregate_id``, for a new stream):
  a lost race changes no row and raises ``ConcurrencyConflict``. The unique
  ``(aggregate_id, sequence)`` constraint on the event table is the last line of defence.
- Global positions (``DomainEvent.id``) must become visible in order, or a follower reading
  ``id > last_seen`` could skip an event whose transaction committed late. On PostgreSQL every
  append first takes a transaction-scoped advisory lock (``pg_advisory_xact_lock``), so
  position assignment and commit are serialised: a transaction that got id N commits before
  any other transaction can get an id. Cost: appends to different streams do not overlap in
  their commit window (see docs/eventsourcing.md). SQLite has a single writer already.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Count, Max, Min, Q

from toolkit.core.compat import optional_import
from toolkit.core.exceptions import ConcurrencyConflict, ValidationError
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

#: The feed filters that an index ``(column, id)`` answers.
_FEED_EQUALITIES = ("event_type", "aggregate_type", "correlation_id")
#: A psycopg ``prepare_threshold`` that no query reaches: only ``prepare=True`` prepares.
_EXPLICIT_PREPARE_ONLY = 2**31 - 1
#: Key of the advisory lock that serialises appends on PostgreSQL ("tkes" in ASCII).
ADVISORY_LOCK_KEY = 0x746B6573
#: :meth:`DjangoEventStoreBackend.stream_span` reads an id-prefix search's span from up to this
#: many matching streams' rows (the id index) before it falls back to the updated_at seeks.
SPAN_PREFIX_LIMIT = 1_000

#: The outbox table's columns, Debezium's outbox-event-router names first.
_OUTBOX_COLUMNS = (
    "id",
    "aggregatetype",
    "aggregateid",
    "type",
    "payload",
    "timestamp",
    "headers",
    "position",
)
_EVENT_COLUMNS = (
    "event_id",
    "aggregate_id",
    "aggregate_type",
    "sequence",
    "event_type",
    "schema_version",
    "payload",
    "metadata",
    "correlation_id",
    "causation_id",
    "user_id",
    "created_at",
)
# Order matches StoredEvent's positional arguments.
_SELECT_COLUMNS = (
    "aggregate_id",
    "aggregate_type",
    "sequence",
    "event_type",
    "payload",
    "id",
    "event_id",
    "created_at",
    "schema_version",
    "correlation_id",
    "causation_id",
    "user_id",
    "metadata",
)


class _Sql:
    """The statements of one connection alias, quoted for its vendor."""

    def __init__(self, alias: str) -> None:
        from toolkit.models import DomainEvent, EventStream
        from toolkit.models import Snapshot as SnapshotModel

        connection = connections[alias]
        q = connection.ops.quote_name
        self.vendor = connection.vendor
        self.postgres = self.vendor == "postgresql"
        events = q(DomainEvent._meta.db_table)
        streams = q(EventStream._meta.db_table)
        snapshots = q(SnapshotModel._meta.db_table)
        json_cast = "::jsonb" if self.postgres else ""
        self.row_placeholder = (
            "("
            + ", ".join(
                f"%s{json_cast}" if c in {"payload", "metadata"} else "%s" for c in _EVENT_COLUMNS
            )
            + ")"
        )
        self.insert_prefix = (
            f"INSERT INTO {events} ({', '.join(q(c) for c in _EVENT_COLUMNS)}) VALUES "
        )
        # The UUID (PostgreSQL) and the timestamp come back as text: StoredEvent decodes them
        # on first access, which halves the cost of loading 10,000 events. On SQLite the CAST
        # also hides the column type from Django's converter, a regular expression per row.
        text = {"event_id", "created_at"} if self.postgres else {"created_at"}
        select = (
            "SELECT "
            + ", ".join(f"CAST({q(c)} AS text)" if c in text else q(c) for c in _SELECT_COLUMNS)
            + f" FROM {events}"
        )
        # PostgreSQL batches: one short statement with one array per column (prepared once)
        # instead of a VALUES list whose parameters the driver would re-parse every call.
        self.insert_unnest = (
            f"INSERT INTO {events} ({', '.join(q(c) for c in _EVENT_COLUMNS)}) "
            "SELECT e, %s, %s, s, t, v, p, m, c, k, u, %s FROM unnest("
            "%s::uuid[], %s::bigint[], %s::text[], %s::integer[], %s::jsonb[], %s::jsonb[], "
            "%s::text[], %s::text[], %s::text[]) AS x(e, s, t, v, p, m, c, k, u) "
            f"ORDER BY s RETURNING {q('id')}"
        )
        self.load = (
            f"{select} WHERE {q('aggregate_id')} = %s AND {q('sequence')} > %s "
            f"ORDER BY {q('sequence')}"
        )
        self.read_all = f"{select} WHERE {q('id')} > %s ORDER BY {q('id')} LIMIT %s"
        self.feed_select = select
        self.feed_table = events
        self.feed_columns = {
            name: q(name)
            for name in ("event_type", "aggregate_type", "correlation_id", "created_at", "id")
        }
        self.load_limit = self.load + " LIMIT %s"
        self.head_position = f"SELECT MAX({q('id')}) FROM {events}"
        # SQLite: take the write lock at BEGIN so concurrent appenders queue, never deadlock.
        self.begin = "BEGIN" if self.postgres else "BEGIN IMMEDIATE"
        self.bump_any = (
            f"UPDATE {streams} SET {q('last_sequence')} = {q('last_sequence')} + %s, "
            f"{q('updated_at')} = %s WHERE {q('aggregate_id')} = %s RETURNING {q('last_sequence')}"
        )
        self.bump_expected = (
            f"UPDATE {streams} SET {q('last_sequence')} = %s, {q('updated_at')} = %s "
            f"WHERE {q('aggregate_id')} = %s AND {q('last_sequence')} = %s"
        )
        self.create_stream = (
            f"INSERT INTO {streams} ({q('aggregate_id')}, {q('aggregate_type')}, "
            f"{q('last_sequence')}, {q('created_at')}, {q('updated_at')}) "
            "VALUES (%s, %s, %s, %s, %s)"
        )
        self.stream_head = (
            f"SELECT {q('last_sequence')} FROM {streams} WHERE {q('aggregate_id')} = %s"
        )
        self.count_after = f"SELECT COUNT(*) FROM {events} WHERE {q('id')} > %s"
        self.count_after_types = self.count_after + f" AND {q('event_type')} IN "
        self.keys_after = (
            f"SELECT {q('id')}, {q('aggregate_id')} FROM {events} WHERE {q('id')} > %s"
        )
        self.position_before = f"SELECT MAX({q('id')}) FROM {events} WHERE {q('created_at')} < %s"
        state_cast = "::jsonb" if self.postgres else ""
        self.delete_snapshot = (
            f"DELETE FROM {snapshots} WHERE {q('aggregate_id')} = %s AND {q('sequence')} = %s"
        )
        self.insert_snapshot = (
            f"INSERT INTO {snapshots} ({q('aggregate_id')}, {q('aggregate_type')}, "
            f"{q('sequence')}, {q('state')}, {q('created_at')}) "
            f"VALUES (%s, %s, %s, %s{state_cast}, %s)"
        )
        snap_select = (
            f"SELECT {q('aggregate_id')}, {q('sequence')}, {q('state')}, "
            f"{q('aggregate_type')}, {q('created_at')} FROM {snapshots} "
            f"WHERE {q('aggregate_id')} = %s"
        )
        order = f" ORDER BY {q('sequence')} DESC LIMIT 1"
        self.load_snapshot = snap_select + order
        self.load_snapshot_max = snap_select + f" AND {q('sequence')} <= %s" + order
        from toolkit.models import OutboxEvent

        outbox = q(OutboxEvent._meta.db_table)
        self.outbox_columns = ", ".join(q(c) for c in _OUTBOX_COLUMNS)
        self.outbox_prefix = f"INSERT INTO {outbox} ({self.outbox_columns}) VALUES "
        self.outbox_row = "(%s, %s, %s, %s, %s" + json_cast + ", %s, %s" + json_cast + ", %s)"
        self._inserts: dict[int, str] = {}
        if self.postgres:
            self._build_postgres_appends(q, events, streams)
        self.insert_one = self.insert_prefix + self.row_placeholder
        if not self.postgres:
            # The hot path runs on the driver's cursor: sqlite3 takes "?" placeholders.
            for name, value in list(vars(self).items()):
                if isinstance(value, str) and "%s" in value:
                    setattr(self, name, value.replace("%s", "?"))
        self.mark = "%s" if self.postgres else "?"

    def _build_postgres_appends(self, q: Any, events: str, streams: str) -> None:
        """One statement per expected-sequence mode that takes the advisory lock, moves the
        stream head and inserts the events.

        The lock is the CTE ``l``; the stream CTE ``s`` reads ``l`` (an uncorrelated EXISTS,
        a one-time filter, or its FROM), and the event insert reads ``s``, so the lock is
        held before ``nextval`` hands out a position. When the head check fails, ``s``
        returns no row and nothing is inserted. Being one statement, it runs as its own
        transaction in autocommit mode: one round trip, no BEGIN or COMMIT.
        """
        lock = f"l AS (SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY}))"
        locked = "EXISTS (SELECT FROM l)"
        new_stream = (
            f"INSERT INTO {streams} ({q('aggregate_id')}, {q('aggregate_type')}, "
            f"{q('last_sequence')}, {q('created_at')}, {q('updated_at')}) "
        )
        conflict = f"ON CONFLICT ({q('aggregate_id')}) DO NOTHING RETURNING 0::bigint AS head"
        set_ts = f"{q('updated_at')} = %(ts)s"
        heads = {
            "any": (
                f"UPDATE {streams} SET {q('last_sequence')} = {q('last_sequence')} + %(n)s, "
                f"{set_ts} WHERE {q('aggregate_id')} = %(id)s AND {locked} "
                f"RETURNING {q('last_sequence')} - %(n)s AS head"
            ),
            "new": (
                f"{new_stream}SELECT %(id)s, %(type)s, %(n)s, %(ts)s, %(ts)s FROM l {conflict}"
            ),
            "expected": (
                f"UPDATE {streams} SET {q('last_sequence')} = %(expected)s + %(n)s, {set_ts} "
                f"WHERE {q('aggregate_id')} = %(id)s AND {q('last_sequence')} = %(expected)s "
                f"AND {locked} RETURNING %(expected)s::bigint AS head"
            ),
        }
        insert = (
            f"INSERT INTO {events} ({', '.join(q(c) for c in _EVENT_COLUMNS)}) "
            "SELECT x.e, %(id)s, %(type)s, s.head + x.o, x.t, x.v, x.p, x.m, x.c, x.k, x.u, "
            "%(ts)s FROM s CROSS JOIN unnest(%(e)s::uuid[], %(t)s::text[], %(v)s::integer[], "
            "%(p)s::jsonb[], %(m)s::jsonb[], %(c)s::text[], %(k)s::text[], %(u)s::text[]) "
            "WITH ORDINALITY AS x(e, t, v, p, m, c, k, u, o) "
            f"ORDER BY x.o RETURNING {q('id')}, {q('sequence')}"
        )
        self.pg_append = {
            mode: f"WITH {lock}, s AS ({head}) {insert}" for mode, head in heads.items()
        }
        # One event (the common case): the same statement with scalar positional parameters.
        # Dumping eight one-element Python lists into PostgreSQL arrays costs more client time
        # than the whole server round trip, so single appends never build arrays.
        heads_one = {
            "any": (
                f"UPDATE {streams} SET {q('last_sequence')} = {q('last_sequence')} + 1, "
                f"{q('updated_at')} = %s WHERE {q('aggregate_id')} = %s AND {locked} "
                f"RETURNING {q('last_sequence')} - 1 AS head"
            ),
            "new": f"{new_stream}SELECT %s, %s, 1, %s, %s FROM l {conflict}",
            "expected": (
                f"UPDATE {streams} SET {q('last_sequence')} = {q('last_sequence')} + 1, "
                f"{q('updated_at')} = %s WHERE {q('aggregate_id')} = %s "
                f"AND {q('last_sequence')} = %s AND {locked} "
                f"RETURNING {q('last_sequence')} - 1 AS head"
            ),
        }
        insert_one = (
            f"INSERT INTO {events} ({', '.join(q(c) for c in _EVENT_COLUMNS)}) "
            "SELECT %s, %s, %s, s.head + 1, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s "
            f"FROM s RETURNING {q('id')}, {q('sequence')}"
        )
        self.pg_append_one = {
            mode: f"WITH {lock}, s AS ({head}) {insert_one}" for mode, head in heads_one.items()
        }
        self.pg_create_empty = (
            f"{new_stream}VALUES (%s, %s, 0, %s, %s) ON CONFLICT ({q('aggregate_id')}) DO NOTHING"
        )

    def insert(self, count: int) -> str:
        """``INSERT ... VALUES (...) x count RETURNING id`` (cached per count)."""
        sql = self._inserts.get(count)
        if sql is None:
            values = ", ".join([self.row_placeholder] * count)
            sql = f"{self.insert_prefix}{values} RETURNING id"
            if not self.postgres:
                sql = sql.replace("%s", "?")
            self._inserts[count] = sql
        return sql


class DjangoEventStoreBackend(EventStoreBackend):
    """Events in the ``toolkit`` tables of the database ``using`` (default: ``"default"``).

    Appends join the caller's transaction when there is one (as a savepoint), so an
    aggregate's events and the caller's own writes commit together.
    """

    name = "django"
    #: SQLite has one writer at a time; PostgreSQL appends hold the advisory lock from
    #: before ``nextval`` until commit. Remove that lock and this must become False.
    positions_commit_in_order = True
    #: The stream table's ``updated_at`` indexes serve the listing's time filter.
    streams_by_time = True
    #: Events per INSERT statement (keeps SQLite under its bound-parameter limit).
    insert_chunk = 500

    def __init__(
        self, using: str = "default", *, prepared_statements: bool = True, outbox: bool = False
    ) -> None:
        self.using = using
        self.prepared_statements = prepared_statements
        #: Also write one outbox row per event in the append's transaction (one INSERT).
        self.outbox = outbox
        self._sql: _Sql | None = None

    @property
    def sql(self) -> _Sql:
        if self._sql is None:
            self._sql = _Sql(self.using)
        return self._sql

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
        sql = self.sql
        connection = connections[self.using]
        raw = connection.connection
        if raw is None:
            connection.ensure_connection()
            raw = connection.connection
        ts = timestamp if sql.postgres else _sqlite_datetime(connection, timestamp)
        conflict = False
        try:
            if connection.autocommit and not connection.in_atomic_block:
                # Not inside a transaction: run our own BEGIN/COMMIT on the driver connection
                # (Django's atomic() costs more than the two statements of an append).
                # Driver errors are translated (IntegrityError, ...) only when one happens:
                # entering connection.wrap_database_errors costs a wrapper object per append.
                try:
                    done = None
                    if sql.postgres and not self.outbox:
                        done = self._append_autocommit(
                            connection, raw, aggregate_id, aggregate_type, events, expected_seq, ts
                        )
                    if done is None:
                        done = self._append_own_transaction(
                            connection, raw, aggregate_id, aggregate_type, events, expected_seq, ts
                        )
                except _Conflict:
                    raise
                except Exception:
                    with connection.wrap_database_errors:
                        raise
                head, positions = done
            else:
                with transaction.atomic(using=self.using), self._cursor() as cursor:
                    head, positions = self._write(
                        cursor, aggregate_id, aggregate_type, events, expected_seq, ts
                    )
        except _Conflict:
            conflict = True
        except IntegrityError as exc:
            # A duplicate stream row or (aggregate_id, sequence): someone else appended.
            if expected_seq is None and not _is_duplicate(exc):
                raise
            conflict = True
        if conflict:
            raise ConcurrencyConflict(aggregate_id, expected_seq, self.stream_head(aggregate_id))
        if len(events) == 1:
            return [
                events[0].stored(aggregate_id, aggregate_type, head + 1, positions[0], timestamp)
            ]
        return [
            event.stored(aggregate_id, aggregate_type, head + offset, position, timestamp)
            for offset, (event, position) in enumerate(zip(events, positions, strict=True), 1)
        ]

    def _pg_params(
        self,
        aggregate_id: str,
        aggregate_type: str,
        events: Sequence[NewEvent],
        expected_seq: int | None,
        ts: Any,
    ) -> tuple[str, str, Any]:
        """The append statement and its parameters: scalars for one event, arrays else."""
        mode = "any" if expected_seq is None else "new" if expected_seq == 0 else "expected"
        if len(events) == 1:
            e = events[0]
            row = (
                e.event_id,
                aggregate_id,
                aggregate_type,
                e.event_type,
                e.schema_version,
                e.payload_json,
                e.metadata_json,
                e.correlation_id,
                e.causation_id,
                e.user_id,
                ts,
            )
            if mode == "new":
                head: tuple[Any, ...] = (aggregate_id, aggregate_type, ts, ts)
            elif mode == "any":
                head = (ts, aggregate_id)
            else:
                head = (ts, aggregate_id, expected_seq)
            return mode, self.sql.pg_append_one[mode], head + row
        return (
            mode,
            self.sql.pg_append[mode],
            {
                "id": aggregate_id,
                "type": aggregate_type,
                "ts": ts,
                "n": len(events),
                "expected": expected_seq,
                **dict(zip("etvpmcku", _event_arrays(events), strict=True)),
            },
        )

    def _append_autocommit(
        self,
        connection: Any,
        raw: Any,
        aggregate_id: str,
        aggregate_type: str,
        events: Sequence[NewEvent],
        expected_seq: int | None,
        ts: Any,
    ) -> tuple[int, list[int]] | None:
        """PostgreSQL outside a transaction: the lock, the head check and the insert are one
        prepared statement, its own transaction in autocommit mode (one round trip). None:
        the stream does not exist yet (take the slow path)."""
        mode, statement, params = self._pg_params(
            aggregate_id, aggregate_type, events, expected_seq, ts
        )
        cursor = _reused_cursor(connection, raw)
        cursor.execute(statement, params, prepare=self._prepare(raw))
        rows = cursor.fetchall()
        if not rows:
            if mode == "any":
                return None
            raise _Conflict
        return _head_and_positions(rows)

    def _append_own_transaction(
        self,
        connection: Any,
        raw: Any,
        aggregate_id: str,
        aggregate_type: str,
        events: Sequence[NewEvent],
        expected_seq: int | None,
        ts: Any,
    ) -> tuple[int, list[int]]:
        """``BEGIN`` (``IMMEDIATE`` on SQLite), the writes, ``COMMIT`` on the driver
        connection ``raw``; driver errors come out untranslated (the caller translates)."""
        sql = self.sql
        cursor = _reused_cursor(connection, raw) if sql.postgres else raw.cursor()
        cursor.execute(sql.begin)
        try:
            result = self._write(cursor, aggregate_id, aggregate_type, events, expected_seq, ts)
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        return result

    def _write(
        self,
        cursor: Any,
        aggregate_id: str,
        aggregate_type: str,
        events: Sequence[NewEvent],
        expected_seq: int | None,
        ts: Any,
    ) -> tuple[int, list[int]]:
        """Write the events (and their outbox rows when the outbox is on)."""
        head, positions = self._write_events(
            cursor, aggregate_id, aggregate_type, events, expected_seq, ts
        )
        if self.outbox:
            self._write_outbox(cursor, aggregate_id, aggregate_type, head, events, positions, ts)
        return head, positions

    def _write_outbox(
        self,
        cursor: Any,
        aggregate_id: str,
        aggregate_type: str,
        head: int,
        events: Sequence[NewEvent],
        positions: Sequence[int],
        ts: Any,
    ) -> None:
        """One INSERT of the events' outbox rows, in the append's transaction."""
        sql = self.sql
        width = len(_OUTBOX_COLUMNS)
        chunk = self.insert_chunk
        rows: list[Any] = []
        for offset, (event, position) in enumerate(zip(events, positions, strict=True), 1):
            headers = {
                "event_id": str(event.event_id),
                "sequence": head + offset,
                "position": position,
                "schema_version": event.schema_version,
                "correlation_id": event.correlation_id,
                "causation_id": event.causation_id,
                "user_id": event.user_id,
                "metadata": event.metadata,
            }
            rows.extend(
                (
                    event.event_id if sql.postgres else event.event_id.hex,
                    aggregate_type,
                    aggregate_id,
                    event.event_type,
                    event.payload_json,
                    ts,
                    json.dumps(headers),
                    position,
                )
            )
        for start in range(0, len(events), chunk):
            part = min(chunk, len(events) - start)
            statement = sql.outbox_prefix + ", ".join([sql.outbox_row] * part)
            if not sql.postgres:
                statement = statement.replace("%s", "?")
            cursor.execute(statement, rows[start * width : (start + part) * width])

    def _write_events(
        self,
        cursor: Any,
        aggregate_id: str,
        aggregate_type: str,
        events: Sequence[NewEvent],
        expected_seq: int | None,
        ts: Any,
    ) -> tuple[int, list[int]]:
        """Check and move the stream head, insert the events; raise _Conflict on a lost race."""
        sql = self.sql
        count = len(events)
        if sql.postgres:
            prepare = self._prepare(cursor.connection)
            mode, statement, params = self._pg_params(
                aggregate_id, aggregate_type, events, expected_seq, ts
            )
            cursor.execute(statement, params, prepare=prepare)
            rows = cursor.fetchall()
            if not rows and mode == "any":
                # A new stream: create its row (we hold the lock), then append as usual.
                cursor.execute(sql.pg_create_empty, (aggregate_id, aggregate_type, ts, ts))
                cursor.execute(statement, params)
                rows = cursor.fetchall()
            if not rows:
                raise _Conflict
            return _head_and_positions(rows)
        if expected_seq is None:
            cursor.execute(sql.bump_any, (count, ts, aggregate_id))
            row = cursor.fetchone()
            if row is None:
                cursor.execute(sql.create_stream, (aggregate_id, aggregate_type, count, ts, ts))
                head = 0
            else:
                head = row[0] - count
        elif expected_seq == 0:
            cursor.execute(sql.create_stream, (aggregate_id, aggregate_type, count, ts, ts))
            head = 0
        else:
            cursor.execute(
                sql.bump_expected, (expected_seq + count, ts, aggregate_id, expected_seq)
            )
            if cursor.rowcount != 1:
                raise _Conflict
            head = expected_seq
        return head, self._insert(cursor, aggregate_id, aggregate_type, head, events, ts)

    def _insert(
        self,
        cursor: Any,
        aggregate_id: str,
        aggregate_type: str,
        head: int,
        events: Sequence[NewEvent],
        ts: Any,
    ) -> list[int]:
        sql = self.sql
        postgres = sql.postgres
        if postgres and len(events) > 1:
            ids, *columns = _event_arrays(events)
            sequences = list(range(head + 1, head + len(events) + 1))
            cursor.execute(
                sql.insert_unnest,
                (aggregate_id, aggregate_type, ts, ids, sequences, *columns),
            )
            return sorted(r[0] for r in cursor.fetchall())
        params: list[Any] = []
        extend = params.extend
        for offset, e in enumerate(events, 1):
            extend(
                (
                    e.event_id if postgres else e.event_id.hex,
                    aggregate_id,
                    aggregate_type,
                    head + offset,
                    e.event_type,
                    e.schema_version,
                    e.payload_json,
                    e.metadata_json,
                    e.correlation_id,
                    e.causation_id,
                    e.user_id,
                    ts,
                )
            )
        if not postgres and len(events) == 1:
            # SQLite, one event: a plain INSERT and lastrowid is cheaper than RETURNING.
            cursor.execute(sql.insert_one, params)
            return [int(cursor.lastrowid)]
        width = len(_EVENT_COLUMNS)
        chunk = self.insert_chunk
        positions: list[int] = []
        for start in range(0, len(events), chunk):
            part = min(chunk, len(events) - start)
            cursor.execute(sql.insert(part), params[start * width : (start + part) * width])
            positions.extend(r[0] for r in cursor.fetchall())
        # RETURNING gives no order guarantee across rows; ids are assigned in VALUES order.
        positions.sort()
        return positions

    def _prepare(self, raw: Any) -> bool:
        """Whether to prepare the append statements on the psycopg connection ``raw``.

        Django opens psycopg connections with ``prepare_threshold=None``, which makes psycopg
        ignore even ``execute(..., prepare=True)``. Django's own cursors bind on the client
        and never prepare, so giving the connection a threshold no query reaches lets only
        our explicit ``prepare=True`` statements be prepared: parsed and planned once per
        connection instead of on every append.
        """
        if not self.prepared_statements:
            return False
        if raw.prepare_threshold is None:
            raw.prepare_threshold = _EXPLICIT_PREPARE_ONLY
        return True

    def _new_cursor(self, raw: Any) -> Any:
        if self.sql.postgres:
            # Django's connection makes client-side-binding cursors; a plain psycopg cursor
            # binds on the server and prepares statements it sees repeatedly.
            psycopg = optional_import("psycopg", extra="postgres", install="psycopg[binary]")

            return psycopg.Cursor(raw)
        return raw.cursor()

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """The driver's own cursor on Django's connection (inside Django's transaction), with
        driver errors translated to Django's (``IntegrityError``, ...)."""
        connection = connections[self.using]
        if connection.connection is None:
            connection.ensure_connection()
        with connection.wrap_database_errors:
            cursor = self._new_cursor(connection.connection)
            try:
                yield cursor
            finally:
                cursor.close()

    def after_commit(self, func: Callable[[], None]) -> None:
        """Run ``func`` after the surrounding transaction commits (now, in autocommit)."""
        transaction.on_commit(func, using=self.using)

    def load(
        self, aggregate_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[StoredEvent]:
        sql = self.sql
        with self._cursor() as cursor:
            if limit is None:
                cursor.execute(sql.load, (aggregate_id, after_seq))
            else:
                cursor.execute(sql.load_limit, (aggregate_id, after_seq, limit))
            return _rows_to_events(cursor.fetchall())

    def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        with self._cursor() as cursor:
            cursor.execute(self.sql.read_all, (after_position, limit))
            return _rows_to_events(cursor.fetchall())

    def read_feed(
        self,
        feed_filter: FeedFilter,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[StoredEvent]:
        """One statement, ``ORDER BY id DESC`` (``ASC`` from ``after``) with the filters in
        its WHERE: an equality on event type, aggregate type or correlation id seeks its
        ``(column, id)`` index from the cursor; no filter walks the primary key.

        With an equality, the page's ids are chosen by a subquery that reads ids only, and the
        rows fetched by them: asked for whole rows, PostgreSQL walks the primary key backwards
        instead, expecting the type spread evenly over the ids, and reads every newer event
        when the newest ones are of other types (100,000 of them in the panel bench: 32 ms
        against 1 ms)."""
        if limit <= 0:
            return []
        sql = self.sql
        column = sql.feed_columns
        mark = sql.mark
        where: list[str] = []
        params: list[Any] = []
        for name in _FEED_EQUALITIES:
            value = getattr(feed_filter, name)
            if value is not None:
                where.append(f"{column[name]} = {mark}")
                params.append(value)
        connection = connections[self.using]
        for bound, op in ((feed_filter.since, ">="), (feed_filter.until, "<")):
            if bound is not None:
                where.append(f"{column['created_at']} {op} {mark}")
                params.append(bound if sql.postgres else _sqlite_datetime(connection, bound))
        if after is not None:
            where.append(f"{column['id']} > {mark}")
            params.append(after)
        elif before is not None:
            where.append(f"{column['id']} < {mark}")
            params.append(before)
        direction = "ASC" if after is not None else "DESC"
        condition = " WHERE " + " AND ".join(where) if where else ""
        order = f" ORDER BY {column['id']} {direction}"
        if any(getattr(feed_filter, name) is not None for name in _FEED_EQUALITIES):
            ids = f"SELECT {column['id']} FROM {sql.feed_table}{condition}{order} LIMIT {mark}"
            query = f"{sql.feed_select} WHERE {column['id']} IN ({ids}){order}"
        else:
            query = f"{sql.feed_select}{condition}{order} LIMIT {mark}"
        params.append(limit)
        with self._cursor() as cursor:
            cursor.execute(query, params)
            events = _rows_to_events(cursor.fetchall())
        return events[::-1] if after is not None else events

    def head_position(self) -> int:
        with self._cursor() as cursor:
            cursor.execute(self.sql.head_position)
            row = cursor.fetchone()
        return int(row[0] or 0) if row else 0

    def stream_head(self, aggregate_id: str) -> int:
        with self._cursor() as cursor:
            cursor.execute(self.sql.stream_head, (aggregate_id,))
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def count_after(self, after_position: int, event_types: Sequence[str] = ()) -> int:
        sql = self.sql
        with self._cursor() as cursor:
            if event_types:
                marks = "(" + ", ".join([sql.mark] * len(event_types)) + ")"
                cursor.execute(sql.count_after_types + marks, (after_position, *event_types))
            else:
                cursor.execute(sql.count_after, (after_position,))
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def stream_keys_after(
        self, after_position: int, event_types: Sequence[str] = (), *, limit: int = 100_000
    ) -> list[tuple[int, str]]:
        sql = self.sql
        query = sql.keys_after
        params: list[Any] = [after_position]
        if event_types:
            query += f" AND {connections[self.using].ops.quote_name('event_type')} IN ("
            query += ", ".join([sql.mark] * len(event_types)) + ")"
            params.extend(event_types)
        query += f" ORDER BY {connections[self.using].ops.quote_name('id')} LIMIT {sql.mark}"
        params.append(limit)
        with self._cursor() as cursor:
            cursor.execute(query, params)
            return [(int(p), a) for p, a in cursor.fetchall()]

    def position_before(self, timestamp: datetime) -> int:
        sql = self.sql
        connection = connections[self.using]
        ts = timestamp if sql.postgres else _sqlite_datetime(connection, timestamp)
        with self._cursor() as cursor:
            cursor.execute(sql.position_before, (ts,))
            row = cursor.fetchone()
        return int(row[0] or 0) if row else 0

    # -- the stream listing (panel reads; the ORM over the EventStream and Snapshot tables) --

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
        """From the ``EventStream`` table, newest first: a seek on the ``(-updated_at, -id)``
        index (``(aggregate_type, -updated_at, -id)`` with a type), which ``since`` /
        ``until`` bound; a stream's cursor is ``"<microseconds of updated_at>_<row id>"``."""
        low = _stream_cursor("after", after)
        high = _stream_cursor("before", before)
        if limit <= 0:
            return []
        rows = self._streams(aggregate_type, id_prefix, since, until)
        if low is not None:
            # Newer streams: walk the index upwards from the cursor, then newest first.
            ts, pk = low
            rows = rows.filter(updated_at__gte=ts).filter(
                Q(updated_at__gt=ts) | Q(updated_at=ts, id__gt=pk)
            )
            found = list(reversed(rows.order_by("updated_at", "id").values_list(*_STREAM)[:limit]))
        else:
            if high is not None:
                # The redundant "<=" bound lets the database seek the index to the cursor.
                ts, pk = high
                rows = rows.filter(updated_at__lte=ts).filter(
                    Q(updated_at__lt=ts) | Q(updated_at=ts, id__lt=pk)
                )
            found = list(rows.order_by("-updated_at", "-id").values_list(*_STREAM)[:limit])
        return [_stream_info(row) for row in found]

    def _streams(
        self,
        aggregate_type: str | None,
        id_prefix: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> Any:
        """The ``EventStream`` rows the listing's filters keep (a lazy queryset)."""
        from toolkit.models import EventStream

        rows = EventStream.objects.using(self.using)
        if aggregate_type is not None:
            rows = rows.filter(aggregate_type=aggregate_type)
        if id_prefix:
            rows = rows.filter(**self._prefix_lookups(id_prefix))
        if since is not None:
            rows = rows.filter(updated_at__gte=_column_time(since))
        if until is not None:
            rows = rows.filter(updated_at__lt=_column_time(until))
        return rows

    def count_streams(
        self, aggregate_types: Sequence[str | None], where: StreamFilter, *, limit: int = 10_000
    ) -> list[StreamCount] | None:
        """Capped counts, all in one statement: ``SELECT (SELECT COUNT(*) FROM (… LIMIT
        limit+1)), …``, each reading at most ``limit + 1`` entries of the type's index."""
        if not aggregate_types:
            return []
        selects: list[str] = []
        params: list[Any] = []
        for i, kind in enumerate(aggregate_types):
            rows = self._streams(kind, where.id_prefix, where.since, where.until)
            capped = rows.values("pk")[: limit + 1]
            sql, sql_params = capped.query.sql_with_params()
            selects.append(f"(SELECT COUNT(*) FROM ({sql}) capped_{i})")
            params.extend(sql_params)
        with connections[self.using].cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(selects)}", params)
            row = cursor.fetchone() or ()
        return [
            StreamCount(int(n)) if int(n) <= limit else StreamCount(limit + 1, exact=False)
            for n in row
        ]

    def stream_span(self, where: StreamFilter) -> tuple[datetime, datetime] | None:
        """The first and last ``updated_at``: one seek at each end of the ``updated_at``
        index (two ordered ``LIMIT 1`` reads, which SQLite, unlike ``MIN`` and ``MAX`` in one
        query, also answers from the index).

        With an id prefix, first from the matching streams' own rows: at most
        :data:`SPAN_PREFIX_LIMIT` + 1 of them, read through the id index, in one query; only
        a prefix that matches more falls back to the seeks (a selective prefix would make the
        seek from the oldest end walk past every older stream that does not match)."""
        rows = self._streams(
            where.aggregate_type, where.id_prefix, where.since, where.until
        ).values_list("updated_at", flat=True)
        if where.id_prefix:
            few = rows.order_by()[: SPAN_PREFIX_LIMIT + 1].aggregate(
                found=Count("updated_at"),
                low=Min("updated_at"),
                high=Max("updated_at"),
            )
            if few["found"] <= SPAN_PREFIX_LIMIT:
                if not few["found"]:
                    return None
                return _aware(few["low"]), _aware(few["high"])
        last = rows.order_by("-updated_at", "-id").first()
        if last is None:
            return None
        first = rows.order_by("updated_at", "id").first()
        return _aware(first), _aware(last)

    def _prefix_lookups(self, prefix: str) -> dict[str, str]:
        """Case-sensitive "starts with" on every database, through an index: PostgreSQL's
        ``LIKE 'p%'`` uses the ``varchar_pattern_ops`` index Django adds to the unique id
        column; SQLite's ``LIKE`` ignores case and indexes, so there the id is bounded by the
        range ``prefix <= id < prefix + U+10FFFF`` (binary collation: exactly the ids with the
        prefix)."""
        if connections[self.using].vendor == "postgresql":
            return {"aggregate_id__startswith": prefix}
        return {"aggregate_id__gte": prefix, "aggregate_id__lt": prefix + "\U0010ffff"}

    def stream_info(self, aggregate_id: str) -> StreamInfo | None:
        from toolkit.models import EventStream

        rows = EventStream.objects.using(self.using).filter(aggregate_id=aggregate_id)
        row = rows.values_list(*_STREAM).first()
        return _stream_info(row) if row is not None else None

    def aggregate_types(self) -> list[str]:
        """The distinct ``aggregate_type`` values of the stream table, by a loose index scan.

        A plain ``SELECT DISTINCT`` reads every entry of the type index (a million streams, a
        million entries); this recursive query jumps from one type to the next, one index
        probe per distinct type. It runs unchanged on PostgreSQL and SQLite.
        """
        from toolkit.models import EventStream

        connection = connections[self.using]
        table = connection.ops.quote_name(EventStream._meta.db_table)
        column = connection.ops.quote_name("aggregate_type")
        sql = (
            f"WITH RECURSIVE types(name) AS ("
            f" SELECT MIN({column}) FROM {table}"
            f" UNION ALL"
            f" SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > types.name)"
            f" FROM types WHERE types.name IS NOT NULL"
            f") SELECT name FROM types WHERE name IS NOT NULL"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return sorted(row[0] for row in cursor.fetchall())

    def list_snapshots(self, aggregate_id: str, *, limit: int = 20) -> list[Snapshot]:
        """Through the unique ``(aggregate_id, sequence)`` index, highest sequence first."""
        from toolkit.models import Snapshot as SnapshotRow

        if limit <= 0:
            return []
        rows = (
            SnapshotRow.objects.using(self.using)
            .filter(aggregate_id=aggregate_id)
            .order_by("-sequence")
            .values_list("aggregate_id", "sequence", "state", "aggregate_type", "created_at")
        )
        return [
            Snapshot(agg, int(seq), state, agg_type, _aware(created))
            for agg, seq, state, agg_type, created in rows[:limit]
        ]

    def save_snapshot(self, snapshot: Snapshot) -> None:
        sql = self.sql
        connection = connections[self.using]
        created = snapshot.created_at
        ts = created if sql.postgres else _sqlite_datetime(connection, created)
        state = json.dumps(snapshot.state)
        with transaction.atomic(using=self.using), self._cursor() as cursor:
            cursor.execute(sql.delete_snapshot, (snapshot.aggregate_id, snapshot.sequence))
            cursor.execute(
                sql.insert_snapshot,
                (snapshot.aggregate_id, snapshot.aggregate_type, snapshot.sequence, state, ts),
            )

    def load_snapshot(self, aggregate_id: str, *, max_seq: int | None = None) -> Snapshot | None:
        sql = self.sql
        with self._cursor() as cursor:
            if max_seq is None:
                cursor.execute(sql.load_snapshot, (aggregate_id,))
            else:
                cursor.execute(sql.load_snapshot_max, (aggregate_id, max_seq))
            row = cursor.fetchone()
        if row is None:
            return None
        agg, seq, state, agg_type, created = row
        return Snapshot(
            agg,
            int(seq),
            json.loads(state) if isinstance(state, str) else state,
            agg_type,
            _aware(created),
        )


def _sqlite_datetime(connection: Any, value: datetime) -> str:
    """An aware datetime as SQLite text, as Django's ``adapt_datetimefield_value`` writes it
    (``str`` of the naive value in the connection's time zone) without its generic checks.
    With ``USE_TZ = False`` (where Django refuses aware values, and the connection's
    ``timezone`` is None) the naive UTC time is written, which is what loads read back."""
    zone = connection.timezone or UTC
    if value.tzinfo is not zone:  # the facade stamps appends in UTC: no conversion then
        value = value.astimezone(zone)
    return str(value.replace(tzinfo=None))


#: Attribute of Django's connection (one per thread and alias) holding the psycopg cursor
#: the appends reuse, with the driver connection it belongs to.
_CURSOR_ATTRIBUTE = "_toolkit_event_store_cursor"


def _reused_cursor(connection: Any, raw: Any) -> Any:
    """A psycopg cursor on ``raw`` (binding on the server, so statements can be prepared),
    created once per driver connection instead of once per append (creating and closing one
    costs about 2.5 µs). Django's connection object is per thread, so the cursor is too; a
    reconnect (a new ``raw``) gets a new cursor."""
    cached = connection.__dict__.get(_CURSOR_ATTRIBUTE)
    if cached is not None and cached[0] is raw:
        return cached[1]
    psycopg = optional_import("psycopg", extra="postgres", install="psycopg[binary]")
    cursor = psycopg.Cursor(raw)
    connection.__dict__[_CURSOR_ATTRIBUTE] = (raw, cursor)
    return cursor


_STREAM = ("aggregate_id", "aggregate_type", "last_sequence", "updated_at", "id")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _stream_info(row: Sequence[Any]) -> StreamInfo:
    agg, kind, head, updated, pk = row
    updated = _aware(updated)
    delta = updated - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return StreamInfo(agg, kind, int(head), updated, f"{micros}_{pk}")


def _column_time(moment: datetime) -> datetime:
    """An aware datetime as the ``updated_at`` column holds it (naive UTC without USE_TZ)."""
    return moment if settings.USE_TZ else moment.astimezone(UTC).replace(tzinfo=None)


def _stream_cursor(name: str, value: str | None) -> tuple[datetime, int] | None:
    """Decode ``"<microseconds>_<id>"`` into the ``(updated_at, id)`` to seek to, naive UTC
    when ``USE_TZ = False`` (how appends write the column then)."""
    if value is None:
        return None

    micros_text, sep, id_text = value.partition("_")
    if sep and f"{micros_text}{id_text}".isascii() and micros_text.isdigit() and id_text.isdigit():
        micros, pk = int(micros_text), int(id_text)
        if micros <= 10**17 and pk <= 2**63 - 1:
            moment = _EPOCH + timedelta(microseconds=micros)
            return (moment if settings.USE_TZ else moment.replace(tzinfo=None)), pk
    raise ValidationError(
        f"{name}: {value!r} is not a stream cursor of this store "
        "('<microseconds>_<id>', e.g. '1700000000000000_42')",
        field=name,
        value=value,
    )


def _head_and_positions(rows: list[Any]) -> tuple[int, list[int]]:
    """``(id, sequence)`` rows → (the head before the append, ids in sequence order)."""
    if len(rows) == 1:
        position, sequence = rows[0]
        return sequence - 1, [position]
    rows.sort(key=lambda row: row[1])
    return rows[0][1] - 1, [row[0] for row in rows]


class _Conflict(Exception):
    """Internal: the conditional UPDATE changed no row."""


def _is_duplicate(exc: IntegrityError) -> bool:
    text = str(exc).lower()
    return "unique" in text or "duplicate" in text


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value  # type: ignore[no-any-return]


def _event_arrays(events: Sequence[NewEvent]) -> list[list[Any]]:
    """The events' columns as PostgreSQL arrays, in the order of the ``unnest`` statements:
    event id, type, schema version, payload, metadata, correlation, causation, user."""
    return [
        [e.event_id for e in events],
        [e.event_type for e in events],
        [e.schema_version for e in events],
        [e.payload_json for e in events],
        [e.metadata_json for e in events],
        [e.correlation_id for e in events],
        [e.causation_id for e in events],
        [e.user_id for e in events],
    ]


def _rows_to_events(rows: Sequence[Sequence[Any]]) -> list[StoredEvent]:
    loads = json.loads
    make = StoredEvent
    return [
        make(a, t, s, et, loads(p), pos, eid, ts, v, c, ca, u, {} if m == "{}" else loads(m))
        for (a, t, s, et, p, pos, eid, ts, v, c, ca, u, m) in rows
    ]
