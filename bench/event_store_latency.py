"""Append and read-your-write latency under concurrent writer processes, PostgreSQL, ours next
to eventsourcing's recorder in the same run.

Run: ``.venv/bin/python -m bench.event_store_latency`` (``--appends 150 --writers 1 4 8``).
Needs PostgreSQL (``BENCH_POSTGRES_URL``, default ``postgres://postgres@127.0.0.1:5432/postgres``);
creates and drops the database ``bench_toolkit_lat_<pid>``.

For 1, 4 and 8 writer processes (each its own connection, started together at a barrier) and two
layouts:

- **own streams**: each writer appends to a stream of its own (no conflicts);
- **shared streams**: every writer appends to the same two streams with the expected sequence
  it last read, and on a conflict reads the head again and retries. The append latency of a
  shared append runs from its first attempt to its success, retries included.

Each append is one event (one commit) with the expected sequence read just before it (the
stream's head), as a command handler does. *Append* is the time of that read and the append;
*read-your-write* is the time of reading the stream back from just before the new event until
it is there (the same process, right after the append). Percentiles are nearest-rank over every
append of every writer (``samples``); with 100 samples p99.9 is the slowest one. Ours is
``EventStore.append`` / ``load(after_seq=...)`` (payload checks, envelope, advisory lock,
stream-head check); the library is eventsourcing's PostgreSQL application recorder,
``insert_events`` / ``select_events(gt=...)`` (table lock, primary-key version check). The two
run one after the other for every configuration, so load from other processes falls on both
alike.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import time
import uuid
from typing import Any

from bench._report import NOISE_NOTE, Table, publish
from bench.event_store import (
    configure_django,
    create_postgres,
    drop_postgres,
    library_env,
    postgres_settings,
)

MAKE_BENCH_ARGS = ["--appends", "100"]

#: Named in the parent; writers get the name passed (their own pid differs).
PG_DB = f"bench_toolkit_lat_{os.getpid()}"
SHARED_STREAMS = 2
PERCENTILES = (0.50, 0.95, 0.99, 0.999)
TOPIC = "bench:Incremented"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))  # ceil without floats
    return ordered[min(rank, len(ordered)) - 1]


# -- the writer processes ------------------------------------------------------------------


def _ours_writer(
    pg: dict[str, Any], streams: list[str], appends: int, barrier: Any, results: Any
) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "toolkit"],
        DATABASES={"default": postgres_settings(pg, pg["dbname"])},
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()
    from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
    from toolkit.patterns.event_store import EventStore
    from toolkit.patterns.exceptions import ConcurrencyConflict

    store = EventStore(DjangoEventStoreBackend(), validate=False)
    store.head_position()  # connect before the clock starts
    append_t, read_t, retries = [], [], 0
    barrier.wait()
    start = time.perf_counter()
    for i in range(appends):
        stream = streams[i % len(streams)]
        t0 = time.perf_counter()
        while True:
            head = store.stream_head(stream)
            try:
                event = store.append(stream, "Counter", "Counter.Incremented", {"by": 1}, head)
                break
            except ConcurrencyConflict:
                retries += 1
        t1 = time.perf_counter()
        seen = store.load(stream, event.sequence - 1)
        t2 = time.perf_counter()
        assert seen and seen[0].event_id == event.event_id
        append_t.append(t1 - t0)
        read_t.append(t2 - t1)
    results.put((append_t, read_t, retries, time.perf_counter() - start))


def _library_writer(
    env: dict[str, str], streams: list[str], appends: int, barrier: Any, results: Any
) -> None:
    from eventsourcing.application import Application
    from eventsourcing.persistence import IntegrityError, StoredEvent

    app: Any = Application(env=env)  # kept: collecting it closes the recorder's connection pool
    recorder = app.recorder
    ids = [uuid.UUID(s) for s in streams]
    append_t, read_t, retries = [], [], 0
    recorder.select_events(ids[0], desc=True, limit=1)  # connect before the clock starts
    barrier.wait()
    start = time.perf_counter()
    for i in range(appends):
        originator = ids[i % len(ids)]
        t0 = time.perf_counter()
        while True:
            last = recorder.select_events(originator, desc=True, limit=1)
            version = last[0].originator_version + 1 if last else 1
            state = json.dumps({"by": 1}).encode()
            try:
                recorder.insert_events([StoredEvent(originator, version, TOPIC, state)])
                break
            except IntegrityError:
                retries += 1
        t1 = time.perf_counter()
        seen = recorder.select_events(originator, gt=version - 1)
        t2 = time.perf_counter()
        assert seen and seen[0].originator_version == version
        append_t.append(t1 - t0)
        read_t.append(t2 - t1)
    results.put((append_t, read_t, retries, time.perf_counter() - start))


def run_config(
    side: str, target: Any, arg: Any, writers: int, shared: bool, appends: int
) -> list[Any]:
    """Start ``writers`` processes of ``side`` together and gather their latencies."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(writers), ctx.Queue()
    if shared:
        streams = [
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"{side}-shared-{writers}-{i}"))
            for i in range(SHARED_STREAMS)
        ]
        per_writer = [streams] * writers
    else:
        per_writer = [[str(uuid.uuid4())] for _ in range(writers)]
    procs = [
        ctx.Process(target=target, args=(arg, per_writer[w], appends, barrier, results))
        for w in range(writers)
    ]
    for proc in procs:
        proc.start()
    gathered: list[Any] = []
    while len(gathered) < len(procs):
        try:
            gathered.append(results.get(timeout=5))
        except queue.Empty:
            # A writer that died sends nothing: stop instead of waiting for it forever.
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead:
                for proc in procs:
                    proc.kill()
                raise RuntimeError(f"{side} writer exited with {dead}") from None
    for proc in procs:
        proc.join(60)
    appends_t = [t for g in gathered for t in g[0]]
    reads_t = [t for g in gathered for t in g[1]]
    wall = max(g[3] for g in gathered)
    return [
        "shared streams" if shared else "own streams",
        writers,
        side,
        len(appends_t),
        *(percentile(appends_t, p) * 1000 for p in PERCENTILES),
        *(percentile(reads_t, p) * 1000 for p in PERCENTILES),
        sum(g[2] for g in gathered),
        len(appends_t) / wall,
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=150, help="appends per writer process")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args(argv)
    pg = create_postgres(PG_DB)
    if pg is None:
        print("PostgreSQL is not reachable: no latency figures")
        publish([], notes=["PostgreSQL was not reachable in this run: no latency figures."])
        return
    rows: list[list[Any]] = []
    try:
        configure_django({"default": postgres_settings(pg, PG_DB)})
        env = {**library_env("postgresql", pg=pg), "POSTGRES_DBNAME": PG_DB}
        from eventsourcing.application import Application

        Application(env=env)  # creates the library's tables once, before the writers race
        from django.db import connections

        connections.close_all()
        for shared in (False, True):
            for writers in args.writers:
                for side, target, arg in (
                    ("ours", _ours_writer, {**pg, "dbname": PG_DB}),
                    # The tables exist: writers creating them at once would race on the DDL.
                    ("eventsourcing", _library_writer, {**env, "CREATE_TABLE": "n"}),
                ):
                    row = run_config(side, target, arg, writers, shared, args.appends)
                    print(" | ".join(f"{c:.2f}" if isinstance(c, float) else str(c) for c in row))
                    rows.append(row)
    finally:
        drop_postgres(pg, PG_DB)
    columns = [
        "streams",
        "writers",
        "library",
        "samples",
        *(f"append p{p * 100:g} ms" for p in PERCENTILES),
        *(f"read-your-write p{p * 100:g} ms" for p in PERCENTILES),
        "retries",
        "appends/s",
    ]
    publish(
        [
            Table(
                "Latency under concurrent writers, PostgreSQL: EventStore vs eventsourcing's "
                "recorder (store level)",
                columns,
                rows,
                [
                    f"{args.appends} one-event appends per writer process; shared streams: "
                    f"{SHARED_STREAMS} streams written by every writer with the expected "
                    "sequence, retried on conflict (latency includes the retries). "
                    "Read-your-write: reading the stream back from the new event, right after "
                    "the append. Percentiles nearest-rank over all samples. " + NOISE_NOTE
                ],
            )
        ]
    )


if __name__ == "__main__":
    main()
