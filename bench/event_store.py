"""Event store benchmark: ours vs the raw DB-API floor vs the ``eventsourcing`` library.

Run: ``.venv/bin/python -m bench.event_store`` (PostgreSQL too when ``BENCH_POSTGRES_URL``, by
default ``postgres://postgres@127.0.0.1:5432/postgres``, is reachable; it creates and drops
the database ``bench_toolkit_es_<pid>``). Rows, on SQLite (WAL, synchronous=NORMAL, as the demo) and
PostgreSQL:

- single appends: one event per call, one commit each, with the expected sequence
- batch appends: 100 events per call, one commit
- load: one stream of 10,000 events into objects with decoded payloads
- rehydrate: an aggregate of 10,000 events, without and with a snapshot at its head

Floors, on the same database in the same run: a raw driver connection doing
``INSERT`` + ``COMMIT`` into the same events table (DB-API's default: ``execute`` then
``commit()``; a second row compares with a bare ``INSERT`` in autocommit mode, the cheapest
one-commit-per-event code), ``executemany`` + ``COMMIT`` for
batches, ``SELECT`` + ``fetchall`` + ``json.loads`` of each payload for loads, and that load
plus a plain-Python fold for rehydration. Ratios are floor time / our time (1.0 = as fast as
the floor) and eventsourcing time / our time (> 1 = we are faster).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

SINGLE = int(os.environ.get("BENCH_SINGLE", "400"))
BATCHES = int(os.environ.get("BENCH_BATCHES", "30"))
BATCH_SIZE = 100
STREAM_SIZE = 10_000
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "8"))
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = f"bench_toolkit_es_{os.getpid()}"  # one per run: concurrent runs do not collide
SQLITE_PRAGMAS = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"


def best(func: Callable[[], Any], repeat: int = REPEAT) -> float:
    """Best wall time of ``repeat`` runs (seconds): the least disturbed by other processes."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def timed(func: Callable[..., Any], *args: Any) -> float:
    start = time.perf_counter()
    func(*args)
    return time.perf_counter() - start


# -- setup ---------------------------------------------------------------------------------


def postgres_available() -> dict[str, Any] | None:
    try:
        import psycopg
    except ImportError:
        return None
    url = urlparse(PG_URL)
    params = {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password or "",
    }
    try:
        with psycopg.connect(
            dbname=url.path.lstrip("/") or "postgres", autocommit=True, **params
        ) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")
    except Exception as exc:  # the server is not there: skip the PostgreSQL rows
        print(f"PostgreSQL skipped: {exc}")
        return None
    return params


def drop_postgres(params: dict[str, Any]) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


def configure_django(sqlite_path: str, pg: dict[str, Any] | None) -> None:
    import django
    from django.conf import settings

    databases: dict[str, Any] = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            "OPTIONS": {"init_command": SQLITE_PRAGMAS, "transaction_mode": "IMMEDIATE"},
        }
    }
    if pg is not None:
        databases["postgres"] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": PG_DB,
            "USER": pg["user"],
            "PASSWORD": pg["password"],
            "HOST": pg["host"],
            "PORT": str(pg["port"]),
        }
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "toolkit"],
        DATABASES=databases,
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()
    from django.core.management import call_command

    for alias in databases:
        call_command("migrate", database=alias, verbosity=0)


# -- raw floors ----------------------------------------------------------------------------

COLUMNS = (
    "event_id, aggregate_id, aggregate_type, sequence, event_type, schema_version, payload, "
    "metadata, correlation_id, causation_id, user_id, created_at"
)


class RawFloor:
    """Hand-written DB-API code on a driver connection of its own."""

    def __init__(self, vendor: str, connect: Callable[[], Any]) -> None:
        self.vendor = vendor
        self.conn = connect()
        mark = "?" if vendor == "sqlite" else "%s"
        cast = "::jsonb" if vendor == "postgresql" else ""
        values = ", ".join([mark] * 6 + [f"{mark}{cast}", f"{mark}{cast}"] + [mark] * 4)
        self.insert = f"INSERT INTO toolkit_domainevent ({COLUMNS}) VALUES ({values})"
        self.select = (
            "SELECT aggregate_id, aggregate_type, sequence, event_type, payload, id, event_id, "
            "created_at, schema_version, correlation_id, causation_id, user_id, metadata "
            f"FROM toolkit_domainevent WHERE aggregate_id = {mark} AND sequence > {mark} "
            "ORDER BY sequence"
        )

    def row(self, stream: str, seq: int) -> tuple[Any, ...]:
        eid = uuid.uuid4()
        now = datetime.now(UTC)
        return (
            eid.hex if self.vendor == "sqlite" else eid,
            stream,
            "Counter",
            seq,
            "Counter.Incremented",
            1,
            json.dumps({"by": 1}),
            "{}",
            str(eid),
            "",
            "",
            now.strftime("%Y-%m-%d %H:%M:%S.%f") if self.vendor == "sqlite" else now,
        )

    def begin(self, cur: Any) -> None:
        if self.vendor == "sqlite":
            cur.execute("BEGIN IMMEDIATE")

    def single(self, stream: str, count: int) -> None:
        cur = self.conn.cursor()
        for seq in range(1, count + 1):
            self.begin(cur)
            cur.execute(self.insert, self.row(stream, seq))
            self.conn.commit()

    def single_autocommit(self, stream: str, count: int) -> None:
        """The cheapest one-commit-per-event code: a bare INSERT in autocommit mode (its own
        transaction; no BEGIN/COMMIT statements or round trips)."""
        if self.vendor == "postgresql":
            self.conn.autocommit = True
        cur = self.conn.cursor()
        try:
            for seq in range(1, count + 1):
                cur.execute(self.insert, self.row(stream, seq))
        finally:
            if self.vendor == "postgresql":
                self.conn.autocommit = False

    def batch(self, stream: str, batches: int) -> None:
        cur = self.conn.cursor()
        seq = 0
        for _ in range(batches):
            rows = [self.row(stream, seq + i) for i in range(1, BATCH_SIZE + 1)]
            seq += BATCH_SIZE
            self.begin(cur)
            cur.executemany(self.insert, rows)
            self.conn.commit()

    def load(self, stream: str) -> list[dict[str, Any]]:
        cur = self.conn.cursor()
        cur.execute(self.select, (stream, 0))
        rows = cur.fetchall()
        loads = json.loads
        out = [loads(r[4]) if isinstance(r[4], str) else r[4] for r in rows]
        if self.vendor == "postgresql":
            self.conn.commit()
        return out

    def rehydrate(self, stream: str) -> int:
        total = 0
        for payload in self.load(stream):
            total += payload["by"]
        return total


def raw_sqlite(path: str) -> RawFloor:
    def connect() -> Any:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.executescript(SQLITE_PRAGMAS)
        # commit() is a no-op in autocommit mode; issue COMMIT ourselves.
        return _SqliteConn(conn)

    return RawFloor("sqlite", connect)


class _SqliteConn:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def cursor(self) -> sqlite3.Cursor:
        return self._conn.cursor()

    def commit(self) -> None:
        self._conn.execute("COMMIT")


def raw_postgres(pg: dict[str, Any]) -> RawFloor:
    import psycopg

    return RawFloor("postgresql", lambda: psycopg.connect(dbname=PG_DB, **pg))


# -- ours ----------------------------------------------------------------------------------


def ours(alias: str) -> dict[str, Callable[..., Any]]:
    from toolkit.eventsourcing import Aggregate, AggregateRepository
    from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
    from toolkit.patterns.event_store import EventStore

    class BenchCounter(Aggregate):
        aggregate_type = "Counter"

        class Incremented(Aggregate.Event):
            def apply(self, counter: Any) -> None:
                counter.total = getattr(counter, "total", 0) + self.by

    class SnapCounter(BenchCounter):
        aggregate_type = "SnapCounter"
        snapshot_every = STREAM_SIZE

    store = EventStore(DjangoEventStoreBackend(using=alias), validate=False)

    def single(stream: str, count: int) -> None:
        append = store.append
        for seq in range(count):
            append(stream, "Counter", "Counter.Incremented", {"by": 1}, seq)

    def batch(stream: str, batches: int) -> None:
        for b in range(batches):
            store.append_batch(
                stream,
                "Counter",
                [("Counter.Incremented", {"by": 1})] * BATCH_SIZE,
                b * BATCH_SIZE,
            )

    def load(stream: str) -> Any:
        return store.load(stream)

    def fill(stream: str, snapshot: bool) -> None:
        cls = SnapCounter if snapshot else BenchCounter
        counter = cls(stream)
        for _ in range(STREAM_SIZE):
            counter.trigger(cls.Incremented, by=1)
        AggregateRepository(cls, store).save(counter)

    def rehydrate(stream: str, snapshot: bool) -> int:
        cls = SnapCounter if snapshot else BenchCounter
        counter = AggregateRepository(cls, store).get(stream)
        assert counter is not None and counter.total == STREAM_SIZE, counter
        return int(counter.total)

    return {"single": single, "batch": batch, "load": load, "fill": fill, "rehydrate": rehydrate}


# -- the eventsourcing library -------------------------------------------------------------


_LIB_CLASSES: list[Any] = []


def lib_counter_class() -> Any:
    """The library's aggregate, defined once (it refuses a second class with the same topic)."""
    if not _LIB_CLASSES:
        from eventsourcing.domain import Aggregate, event

        class LibCounter(Aggregate):
            def __init__(self) -> None:
                self.total = 0

            @event("Incremented")
            def increment(self, by: int) -> None:
                self.total += by

        _LIB_CLASSES.append(LibCounter)
    return _LIB_CLASSES[0]


def library(env: dict[str, str]) -> dict[str, Callable[..., Any]]:
    from eventsourcing.application import Application

    LibCounter = lib_counter_class()
    app = Application(env={**env, "IS_SNAPSHOTTING_ENABLED": "y"})

    def single(_: str, count: int) -> None:
        counter = LibCounter()
        app.save(counter)
        for _ in range(count - 1):
            counter.increment(1)
            app.save(counter)

    def batch(_: str, batches: int) -> None:
        counter = LibCounter()
        for _ in range(BATCH_SIZE - 1):
            counter.increment(1)
        app.save(counter)
        for _ in range(batches - 1):
            for _ in range(BATCH_SIZE):
                counter.increment(1)
            app.save(counter)

    ids: dict[str, Any] = {}

    def fill(stream: str, snapshot: bool) -> None:
        counter = LibCounter()
        for _ in range(STREAM_SIZE - 1):
            counter.increment(1)
        app.save(counter)
        ids[stream] = counter.id
        if snapshot:
            app.take_snapshot(counter.id)

    def load(stream: str) -> Any:
        return list(app.events.get(ids[stream]))

    def rehydrate(stream: str, snapshot: bool) -> int:
        counter = app.repository.get(ids[stream])
        assert counter.total == STREAM_SIZE - 1
        return int(counter.total)

    return {"single": single, "batch": batch, "load": load, "fill": fill, "rehydrate": rehydrate}


# -- the run -------------------------------------------------------------------------------


def measure(
    label: str,
    floor: RawFloor,
    mine: dict[str, Callable[..., Any]],
    lib: dict[str, Callable[..., Any]],
) -> list[tuple[str, str, float, float, float]]:
    tag = uuid.uuid4().hex[:8]
    rows = []
    # Appends: ROUNDS interleaved rounds (floor, ours, library) and the best round of each,
    # so that load from other processes hits all three alike and disturbs the result least.
    singles: dict[str, list[float]] = {"floor": [], "floor_ac": [], "ours": [], "lib": []}
    batches: dict[str, list[float]] = {"floor": [], "ours": [], "lib": []}
    per_round, batch_round = SINGLE // ROUNDS, max(BATCHES // ROUNDS, 1)
    for r in range(ROUNDS):
        singles["floor"].append(timed(floor.single, f"raw-s-{tag}-{r}", per_round))
        singles["floor_ac"].append(timed(floor.single_autocommit, f"raw-a-{tag}-{r}", per_round))
        singles["ours"].append(timed(mine["single"], f"our-s-{tag}-{r}", per_round))
        singles["lib"].append(timed(lib["single"], "", per_round))
        batches["floor"].append(timed(floor.batch, f"raw-b-{tag}-{r}", batch_round))
        batches["ours"].append(timed(mine["batch"], f"our-b-{tag}-{r}", batch_round))
        batches["lib"].append(timed(lib["batch"], "", batch_round))
    for title, times, floor_key in (
        (f"single append ({per_round * ROUNDS} calls)", singles, "floor"),
        (
            f"single append, floor = autocommit INSERT ({per_round * ROUNDS} calls)",
            singles,
            "floor_ac",
        ),
        (f"batch append 100/call ({batch_round * ROUNDS} calls)", batches, "floor"),
    ):
        # The best round of each, scaled to all ROUNDS rounds.
        rows.append(
            (
                label,
                title,
                min(times[floor_key]) * ROUNDS,
                min(times["ours"]) * ROUNDS,
                min(times["lib"]) * ROUNDS,
            )
        )
    floor.batch(f"raw-l-{tag}", STREAM_SIZE // BATCH_SIZE)
    mine["fill"](f"our-l-{tag}", False)
    mine["fill"](f"our-n-{tag}", True)
    lib["fill"]("plain", False)
    lib["fill"]("snap", True)
    assert len(mine["load"](f"our-l-{tag}")) == STREAM_SIZE
    rows.append(
        (
            label,
            f"load {STREAM_SIZE:,} events",
            best(lambda: floor.load(f"raw-l-{tag}")),
            best(lambda: mine["load"](f"our-l-{tag}")),
            best(lambda: lib["load"]("plain")),
        )
    )
    rows.append(
        (
            label,
            f"rehydrate {STREAM_SIZE:,} events",
            best(lambda: floor.rehydrate(f"raw-l-{tag}")),
            best(lambda: mine["rehydrate"](f"our-l-{tag}", False)),
            best(lambda: lib["rehydrate"]("plain", False)),
        )
    )
    rows.append(
        (
            label,
            "rehydrate with snapshot",
            float("nan"),
            best(lambda: mine["rehydrate"](f"our-n-{tag}", True)),
            best(lambda: lib["rehydrate"]("snap", True)),
        )
    )
    return rows


def main() -> None:
    workdir = tempfile.mkdtemp(prefix="bench-es-")
    sqlite_path = os.path.join(workdir, "ours.sqlite3")
    pg = postgres_available()
    try:
        configure_django(sqlite_path, pg)
        results = measure(
            "SQLite (WAL)",
            raw_sqlite(sqlite_path),
            ours("default"),
            library(
                {
                    "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": os.path.join(workdir, "lib.sqlite3"),
                }
            ),
        )
        if pg is not None:
            results += measure(
                "PostgreSQL",
                raw_postgres(pg),
                ours("postgres"),
                library(
                    {
                        "PERSISTENCE_MODULE": "eventsourcing.postgres",
                        "POSTGRES_DBNAME": PG_DB,
                        "POSTGRES_HOST": pg["host"],
                        "POSTGRES_PORT": str(pg["port"]),
                        "POSTGRES_USER": pg["user"],
                        "POSTGRES_PASSWORD": pg["password"],
                    }
                ),
            )
        print_table(results)
    finally:
        from django.db import connections

        connections.close_all()
        if pg is not None:
            drop_postgres(pg)
        shutil.rmtree(workdir, ignore_errors=True)


def print_table(rows: list[tuple[str, str, float, float, float]]) -> None:
    print(
        "| database | work | floor ms | ours ms | eventsourcing ms | floor/ours "
        "| eventsourcing/ours |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, work, floor, mine, lib in rows:
        ratio = "n/a" if floor != floor else f"{floor / mine:.2f}x"
        print(
            f"| {label} | {work} | {'n/a' if floor != floor else f'{floor * 1000:.1f}'} "
            f"| {mine * 1000:.1f} | {lib * 1000:.1f} | {ratio} | {lib / mine:.2f}x |"
        )


if __name__ == "__main__":
    main()
