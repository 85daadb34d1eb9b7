"""Event store benchmark: ours vs a raw DB-API floor vs the ``eventsourcing`` 9.5 library,
like for like, each pair in the same run.

Run: ``.venv/bin/python -m bench.event_store`` (``--reps 5 --single 200 --batches 10``).
PostgreSQL too when ``BENCH_POSTGRES_URL`` (default
``postgres://postgres@127.0.0.1:5432/postgres``) is reachable; the run creates and drops the
database ``bench_toolkit_es_<pid>``.

Two levels, labelled in the output:

- **store level**: our ``EventStore.append`` / ``append_batch`` / ``load`` (payload checks,
  envelope, database-side expected-sequence check, global positions) against eventsourcing's
  application recorder, ``recorder.insert_events`` / ``recorder.select_events`` (the layer
  under its application: primary-key expected-version check, notification ids). Both sides
  serialise the payload to JSON on append and decode it on load. The floor is hand-written
  DB-API code on the same database file or server and on our table: a bare ``INSERT`` in
  autocommit mode per event (the cheapest one-row-per-commit code), ``executemany`` + one
  ``COMMIT`` per batch, and ``SELECT`` + ``fetchall`` building the same ``StoredEvent`` objects
  (payloads decoded with ``json.loads``) for loads.
- **aggregate level**: our ``AggregateRepository.save`` / ``.get`` against eventsourcing's
  ``Application.save`` / ``repository.get`` (events built by an aggregate, then folded back).

SQLite runs with the toolkit's defaults (WAL, ``synchronous=FULL``); eventsourcing switches its
file to WAL too and keeps SQLite's ``FULL``; the floor's connection sets the same two pragmas.
One more row runs single appends with ``synchronous=NORMAL`` (the opt-out, ours and the floor
alike). Each workload is measured ``--reps`` times, floor / ours / eventsourcing interleaved in
every repetition, so load from other processes falls on all three alike; the tables show the
median time and the median of the per-repetition ratios. Every timed segment starts after a
full garbage collection (:func:`timed`) and, on SQLite, from an empty WAL (:class:`WalFence`),
so each side pays for the collections and checkpoints of its own work only.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from bench._report import NOISE_NOTE, Table, publish

MAKE_BENCH_ARGS = ["--reps", "9", "--single", "60", "--batches", "4"]

BATCH_SIZE = 100
STREAM_SIZE = 10_000
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = f"bench_toolkit_es_{os.getpid()}"  # one per run: concurrent runs do not collide
TOPIC = "bench:Incremented"


def timed(func: Callable[..., Any], *args: Any) -> float:
    """Seconds one call of ``func`` takes, started after a full garbage collection (untimed).

    Python's cyclic collector runs when allocations cross its thresholds, and a full pass
    over the bench's heap costs tens of milliseconds; without a collection first, that pass
    falls on whichever side's segment crosses the mark (a 10,000-event load builds 30,000
    objects), as the WAL checkpoint did before :class:`WalFence`. Each segment still pays
    for the collections its own allocations trigger.
    """
    gc.collect()
    start = time.perf_counter()
    func(*args)
    return time.perf_counter() - start


class WalFence:
    """On SQLite, each timed segment pays only for WAL checkpoints of its own pages.

    SQLite checkpoints the shared ``-wal`` file once it holds 1,000 pages, inside whichever
    commit crosses that mark. With floor and ours interleaved on one file in short segments,
    the crossing falls in the same side's segment rep after rep, and that side pays for the
    other's pages too (``synchronous=NORMAL``, 60 appends per segment: floor/ours 0.24-0.35,
    against 0.67-0.69 with 300). So every segment starts from an empty WAL
    (``wal_checkpoint(TRUNCATE)`` on every SQLite file of the comparison, not timed): a side
    pays a checkpoint when its own writes reach 1,000 pages, as it would alone (the
    single-append segments at ``--single 60`` stay below that on both sides).
    """

    def __init__(self, paths: list[str]) -> None:
        self.conns = [sqlite3.connect(path, isolation_level=None, timeout=20) for path in paths]

    def timed(self, func: Callable[..., Any], *args: Any) -> float:
        for conn in self.conns:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return timed(func, *args)


# -- setup ---------------------------------------------------------------------------------


def pg_params(url: str = PG_URL) -> dict[str, Any]:
    parsed = urlparse(url)
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password or "",
    }


def create_postgres(name: str = PG_DB) -> dict[str, Any] | None:
    """Create the database ``name``; None (and a message) when the server is not there."""
    try:
        import psycopg
    except ImportError:
        return None
    params = pg_params()
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    except Exception as exc:  # the server is not there: skip the PostgreSQL rows
        print(f"PostgreSQL skipped: {exc}")
        return None
    return params


def drop_postgres(params: dict[str, Any], name: str = PG_DB) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def configure_django(databases: dict[str, Any]) -> None:
    import django
    from django.conf import settings

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


def postgres_settings(params: dict[str, Any], name: str = PG_DB) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": params["user"],
        "PASSWORD": params["password"],
        "HOST": params["host"],
        "PORT": str(params["port"]),
    }


def library_env(
    vendor: str, *, sqlite_path: str = "", pg: dict[str, Any] | None = None
) -> dict[str, str]:
    if vendor == "sqlite":
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": sqlite_path}
    assert pg is not None
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": PG_DB,
        "POSTGRES_HOST": pg["host"],
        "POSTGRES_PORT": str(pg["port"]),
        "POSTGRES_USER": pg["user"],
        "POSTGRES_PASSWORD": pg["password"],
    }


# -- the raw floor -------------------------------------------------------------------------

COLUMNS = (
    "event_id, aggregate_id, aggregate_type, sequence, event_type, schema_version, payload, "
    "metadata, correlation_id, causation_id, user_id, created_at"
)


class RawFloor:
    """Hand-written DB-API code on a driver connection of its own, on our events table."""

    def __init__(self, vendor: str, connect: Callable[[], Any]) -> None:
        self.vendor = vendor
        self.conn = connect()
        mark = "?" if vendor == "sqlite" else "%s"
        cast = "::jsonb" if vendor == "postgresql" else ""
        values = ", ".join([mark] * 6 + [f"{mark}{cast}", f"{mark}{cast}"] + [mark] * 4)
        self.insert = f"INSERT INTO toolkit_domainevent ({COLUMNS}) VALUES ({values})"
        text = "::text" if vendor == "postgresql" else ""
        self.select = (
            "SELECT aggregate_id, aggregate_type, sequence, event_type, payload, id, "
            f"event_id{text}, created_at{text}, schema_version, correlation_id, causation_id, "
            f"user_id, metadata FROM toolkit_domainevent WHERE aggregate_id = {mark} "
            f"AND sequence > {mark} ORDER BY sequence"
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
            str(now.replace(tzinfo=None)) if self.vendor == "sqlite" else now,
        )

    def single(self, stream: str, count: int) -> None:
        """One bare INSERT per event in autocommit mode: its own transaction and commit."""
        cur = self.conn.cursor()
        for seq in range(1, count + 1):
            cur.execute(self.insert, self.row(stream, seq))

    def batch(self, stream: str, batches: int) -> None:
        cur = self.conn.cursor()
        seq = 0
        for _ in range(batches):
            rows = [self.row(stream, seq + i) for i in range(1, BATCH_SIZE + 1)]
            seq += BATCH_SIZE
            cur.execute("BEGIN IMMEDIATE" if self.vendor == "sqlite" else "BEGIN")
            cur.executemany(self.insert, rows)
            cur.execute("COMMIT")

    def load(self, stream: str) -> list[Any]:
        from toolkit.eventsourcing.store import StoredEvent

        cur = self.conn.cursor()
        cur.execute(self.select, (stream, 0))
        loads = json.loads
        return [
            StoredEvent(a, t, s, et, loads(p), pos, eid, ts, v, c, ca, u, loads(m))
            for (a, t, s, et, p, pos, eid, ts, v, c, ca, u, m) in cur.fetchall()
        ]


def raw_sqlite(path: str, synchronous: str) -> RawFloor:
    def connect() -> Any:
        conn = sqlite3.connect(path, isolation_level=None, timeout=20)
        conn.execute("PRAGMA journal_mode=WAL").fetchall()
        conn.execute(f"PRAGMA synchronous={synchronous}")
        return conn

    return RawFloor("sqlite", connect)


def raw_postgres(pg: dict[str, Any]) -> RawFloor:
    import psycopg

    # Loads keep psycopg's own jsonb loader off: the payload arrives as text and is decoded
    # with json.loads, as on SQLite and in our backend.
    def connect() -> Any:
        conn = psycopg.connect(dbname=PG_DB, autocommit=True, **pg)
        conn.adapters.register_loader("jsonb", psycopg.types.string.TextLoader)
        return conn

    return RawFloor("postgresql", connect)


# -- ours ----------------------------------------------------------------------------------

_OUR_CLASSES: list[Any] = []


def our_counter_class() -> Any:
    if not _OUR_CLASSES:
        from toolkit.eventsourcing import Aggregate

        class BenchCounter(Aggregate):
            aggregate_type = "Counter"

            class Incremented(Aggregate.Event):  # type: ignore[misc, valid-type]
                def apply(self, counter: Any) -> None:
                    counter.total = getattr(counter, "total", 0) + self.by

        class SnapCounter(BenchCounter):
            aggregate_type = "SnapCounter"
            snapshot_every = STREAM_SIZE

        _OUR_CLASSES.extend([BenchCounter, SnapCounter])
    return _OUR_CLASSES


def ours(alias: str) -> dict[str, Callable[..., Any]]:
    from toolkit.eventsourcing import AggregateRepository
    from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
    from toolkit.patterns.event_store import EventStore

    counter_cls, snap_cls = our_counter_class()
    store = EventStore(DjangoEventStoreBackend(using=alias), validate=False)
    repositories = {
        False: AggregateRepository(counter_cls, store),
        True: AggregateRepository(snap_cls, store),
    }

    def single(stream: str, count: int) -> None:
        append = store.append
        for seq in range(count):
            append(stream, "Counter", "Counter.Incremented", {"by": 1}, seq)

    def batch(stream: str, batches: int) -> None:
        for b in range(batches):
            store.append_batch(
                stream, "Counter", [("Counter.Incremented", {"by": 1})] * BATCH_SIZE, b * BATCH_SIZE
            )

    def load(stream: str) -> Any:
        events = store.load(stream)
        assert len(events) == STREAM_SIZE
        return events

    def save_single(stream: str, count: int) -> None:
        repository = repositories[False]
        counter = counter_cls(stream)
        for _ in range(count):
            counter.trigger(counter_cls.Incremented, by=1)
            repository.save(counter)

    def save_batch(stream: str, batches: int) -> None:
        repository = repositories[False]
        counter = counter_cls(stream)
        for _ in range(batches):
            for _ in range(BATCH_SIZE):
                counter.trigger(counter_cls.Incremented, by=1)
            repository.save(counter)

    def fill(stream: str, snapshot: bool) -> None:
        cls = snap_cls if snapshot else counter_cls
        counter = cls(stream)
        for _ in range(STREAM_SIZE):
            counter.trigger(cls.Incremented, by=1)
        repositories[snapshot].save(counter)

    def get(stream: str, snapshot: bool) -> int:
        counter = repositories[snapshot].get(stream)
        assert counter is not None and counter.total == STREAM_SIZE, counter
        return int(counter.total)

    return {
        "single": single,
        "batch": batch,
        "load": load,
        "save_single": save_single,
        "save_batch": save_batch,
        "fill": fill,
        "get": get,
    }


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
    from eventsourcing.persistence import StoredEvent

    lib_counter = lib_counter_class()
    app: Any = Application(env={**env, "IS_SNAPSHOTTING_ENABLED": "y"})
    recorder = app.recorder
    ids: dict[str, uuid.UUID] = {}
    dumps, loads = json.dumps, json.loads

    def stream_id(stream: str) -> uuid.UUID:
        return ids.setdefault(stream, uuid.uuid4())

    def single(stream: str, count: int) -> None:
        originator = stream_id(stream)
        insert = recorder.insert_events
        for version in range(1, count + 1):
            insert([StoredEvent(originator, version, TOPIC, dumps({"by": 1}).encode())])

    def batch(stream: str, batches: int) -> None:
        originator = stream_id(stream)
        version = 0
        for _ in range(batches):
            events = [
                StoredEvent(originator, version + i, TOPIC, dumps({"by": 1}).encode())
                for i in range(1, BATCH_SIZE + 1)
            ]
            version += BATCH_SIZE
            recorder.insert_events(events)

    def fill_raw(stream: str) -> None:
        batch(stream, STREAM_SIZE // BATCH_SIZE)

    def load(stream: str) -> Any:
        events = recorder.select_events(ids[stream])
        assert len(events) == STREAM_SIZE
        return [(e.originator_version, loads(e.state)) for e in events]

    def save_single(stream: str, count: int) -> None:
        counter = lib_counter()
        app.save(counter)  # its creation event
        for _ in range(count - 1):
            counter.increment(1)
            app.save(counter)

    def save_batch(stream: str, batches: int) -> None:
        counter = lib_counter()
        for _ in range(BATCH_SIZE - 1):
            counter.increment(1)
        app.save(counter)
        for _ in range(batches - 1):
            for _ in range(BATCH_SIZE):
                counter.increment(1)
            app.save(counter)

    def fill(stream: str, snapshot: bool) -> None:
        counter = lib_counter()
        for _ in range(STREAM_SIZE - 1):  # with the creation event: STREAM_SIZE events
            counter.increment(1)
        app.save(counter)
        ids[stream] = counter.id
        if snapshot:
            app.take_snapshot(counter.id)

    def get(stream: str, snapshot: bool) -> int:
        counter = app.repository.get(ids[stream])
        assert counter.total == STREAM_SIZE - 1
        return int(counter.total)

    return {
        "single": single,
        "batch": batch,
        "fill_raw": fill_raw,
        "load": load,
        "save_single": save_single,
        "save_batch": save_batch,
        "fill": fill,
        "get": get,
    }


# -- the run -------------------------------------------------------------------------------


def _median_ratio(numerators: list[float], denominators: list[float]) -> float:
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def measure_store(
    label: str,
    floor: RawFloor,
    mine: dict[str, Callable[..., Any]],
    lib: dict[str, Callable[..., Any]],
    *,
    reps: int,
    single: int,
    batches: int,
    fence: WalFence | None = None,
) -> list[list[Any]]:
    clock = fence.timed if fence is not None else timed
    tag = uuid.uuid4().hex[:8]
    floor.batch(f"raw-l-{tag}", STREAM_SIZE // BATCH_SIZE)
    mine["batch"](f"our-l-{tag}", STREAM_SIZE // BATCH_SIZE)
    lib["fill_raw"](f"lib-l-{tag}")
    times: dict[str, dict[str, list[float]]] = {
        w: {"floor": [], "ours": [], "lib": []} for w in ("single", "batch", "load")
    }
    for r in range(reps):
        for side, funcs in (("floor", None), ("ours", mine), ("lib", lib)):
            s = f"{side}-{tag}-{r}"
            if funcs is None:
                times["single"][side].append(clock(floor.single, f"{s}-s", single))
                times["batch"][side].append(clock(floor.batch, f"{s}-b", batches))
                times["load"][side].append(clock(floor.load, f"raw-l-{tag}"))
            else:
                times["single"][side].append(clock(funcs["single"], f"{s}-s", single))
                times["batch"][side].append(clock(funcs["batch"], f"{s}-b", batches))
                prefix = "our" if side == "ours" else "lib"
                times["load"][side].append(clock(funcs["load"], f"{prefix}-l-{tag}"))
    work = {
        "single": (f"single append (1 event per commit, ×{single})", single),
        "batch": (f"batch append ({BATCH_SIZE} events per commit, ×{batches})", batches),
        "load": (f"load a {STREAM_SIZE:,}-event stream", 1),
    }
    rows = []
    for key, (title, calls) in work.items():
        t = times[key]
        rows.append(
            [
                label,
                title,
                statistics.median(t["floor"]) / calls * 1000,
                statistics.median(t["ours"]) / calls * 1000,
                statistics.median(t["lib"]) / calls * 1000,
                _median_ratio(t["floor"], t["ours"]),
                _median_ratio(t["floor"], t["lib"]),
                _median_ratio(t["lib"], t["ours"]),
            ]
        )
    return rows


def measure_single_only(
    label: str,
    floor: RawFloor,
    mine: dict[str, Callable[..., Any]],
    *,
    reps: int,
    single: int,
    fence: WalFence | None = None,
) -> list[Any]:
    clock = fence.timed if fence is not None else timed
    tag = uuid.uuid4().hex[:8]
    floor_t, ours_t = [], []
    for r in range(reps):
        floor_t.append(clock(floor.single, f"n-raw-{tag}-{r}", single))
        ours_t.append(clock(mine["single"], f"n-our-{tag}-{r}", single))
    return [
        label,
        f"single append (1 event per commit, ×{single})",
        statistics.median(floor_t) / single * 1000,
        statistics.median(ours_t) / single * 1000,
        None,
        _median_ratio(floor_t, ours_t),
        None,
        None,
    ]


def measure_aggregates(
    label: str,
    mine: dict[str, Callable[..., Any]],
    lib: dict[str, Callable[..., Any]],
    *,
    reps: int,
    single: int,
    batches: int,
) -> list[list[Any]]:
    tag = uuid.uuid4().hex[:8]
    mine["fill"](f"agg-{tag}", False)
    mine["fill"](f"agg-snap-{tag}", True)
    lib["fill"]("plain", False)
    lib["fill"]("snap", True)
    work: list[tuple[str, Callable[[str], Any], Callable[[str], Any], int]] = [
        (
            f"save 1 new event per save (×{single})",
            lambda s: mine["save_single"](s, single),
            lambda s: lib["save_single"](s, single),
            single,
        ),
        (
            f"save {BATCH_SIZE} new events per save (×{batches})",
            lambda s: mine["save_batch"](s, batches),
            lambda s: lib["save_batch"](s, batches),
            batches,
        ),
        (
            f"get: rehydrate {STREAM_SIZE:,} events",
            lambda s: mine["get"](f"agg-{tag}", False),
            lambda s: lib["get"]("plain", False),
            1,
        ),
        (
            "get: from a snapshot at the head",
            lambda s: mine["get"](f"agg-snap-{tag}", True),
            lambda s: lib["get"]("snap", True),
            1,
        ),
    ]
    rows = []
    for index, (title, our_func, lib_func, calls) in enumerate(work):
        our_t, lib_t = [], []
        for r in range(reps):
            our_t.append(timed(our_func, f"agg-s-{tag}-{index}-{r}"))
            lib_t.append(timed(lib_func, ""))
        rows.append(
            [
                label,
                title,
                statistics.median(our_t) / calls * 1000,
                statistics.median(lib_t) / calls * 1000,
                _median_ratio(lib_t, our_t),
            ]
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="interleaved repetitions")
    parser.add_argument("--single", type=int, default=200, help="single appends per repetition")
    parser.add_argument("--batches", type=int, default=10, help="batches per repetition")
    args = parser.parse_args(argv)
    sizes = {"reps": args.reps, "single": args.single, "batches": args.batches}

    workdir = tempfile.mkdtemp(prefix="bench-es-")
    ours_path = os.path.join(workdir, "ours.sqlite3")
    normal_path = os.path.join(workdir, "ours-normal.sqlite3")
    pg = create_postgres()
    databases: dict[str, Any] = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ours_path},
        "sqlite_normal": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": normal_path,
            "OPTIONS": {"init_command": "PRAGMA synchronous=NORMAL"},
        },
    }
    if pg is not None:
        databases["postgres"] = postgres_settings(pg)
    store_rows: list[list[Any]] = []
    aggregate_rows: list[list[Any]] = []
    try:
        configure_django(databases)
        lib_path = os.path.join(workdir, "lib.sqlite3")
        sqlite_lib = library(library_env("sqlite", sqlite_path=lib_path))
        sqlite_ours = ours("default")
        label = "SQLite (WAL, synchronous=FULL)"
        store_rows += measure_store(
            label,
            raw_sqlite(ours_path, "FULL"),
            sqlite_ours,
            sqlite_lib,
            **sizes,
            fence=WalFence([ours_path, lib_path]),
        )
        store_rows.append(
            measure_single_only(
                "SQLite (WAL, synchronous=NORMAL)",
                raw_sqlite(normal_path, "NORMAL"),
                ours("sqlite_normal"),
                reps=args.reps,
                single=args.single,
                fence=WalFence([normal_path]),
            )
        )
        aggregate_rows += measure_aggregates(label, sqlite_ours, sqlite_lib, **sizes)
        if pg is not None:
            pg_lib = library(library_env("postgresql", pg=pg))
            pg_ours = ours("postgres")
            store_rows += measure_store("PostgreSQL", raw_postgres(pg), pg_ours, pg_lib, **sizes)
            aggregate_rows += measure_aggregates("PostgreSQL", pg_ours, pg_lib, **sizes)
    finally:
        from django.db import connections

        connections.close_all()
        if pg is not None:
            drop_postgres(pg)
        shutil.rmtree(workdir, ignore_errors=True)

    tables = [
        Table(
            "Store level: EventStore vs eventsourcing's recorder (insert_events / select_events)",
            [
                "database",
                "work",
                "floor ms/call",
                "ours ms/call",
                "eventsourcing ms/call",
                "floor/ours",
                "floor/eventsourcing",
                "eventsourcing/ours",
            ],
            store_rows,
            [
                "Floor: hand-written DB-API code on the same database and table (bare INSERT in "
                "autocommit per event; executemany + COMMIT per batch; SELECT + fetchall into the "
                "same StoredEvent objects with json.loads). On SQLite each timed segment starts "
                "from an empty WAL (each side pays for its own checkpoints only). "
                "floor/x ≥ 1 is as fast as the floor; "
                "eventsourcing/ours > 1 means we are faster. Median time per call and median of "
                f"the per-repetition ratios over {args.reps} interleaved repetitions. " + NOISE_NOTE
            ],
        ),
        Table(
            "Aggregate level: AggregateRepository vs eventsourcing's Application "
            "(app.save / app.repository.get)",
            ["database", "work", "ours ms/call", "eventsourcing ms/call", "eventsourcing/ours"],
            aggregate_rows,
            [
                "Same aggregate on both sides: a counter whose event adds to a total. "
                "eventsourcing/ours > 1 means we are faster."
            ],
        ),
    ]
    for table in tables:
        print(f"\n{table.title}")
        print(" | ".join(table.columns))
        for row in table.rows:
            print(
                " | ".join(
                    "n/a" if c is None else f"{c:.2f}" if isinstance(c, float) else str(c)
                    for c in row
                )
            )
    publish(tables)


if __name__ == "__main__":
    main()
