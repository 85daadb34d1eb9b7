"""Reliability on PostgreSQL with real processes: races, a killed writer, a tailing reader.

Each child process runs ``django.setup()`` with ``tests.settings`` and connects to the test
database of the parent (its name is passed in), so every process has its own connection.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from typing import Any

import pytest
from django.db import connection

from toolkit.eventsourcing.backends.django import ADVISORY_LOCK_KEY, DjangoEventStoreBackend
from toolkit.patterns.event_store import EventStore

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

STREAMS = [f"shared-{i}" for i in range(10)]


def _setup(db_name: str) -> EventStore:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict["NAME"] = db_name
    return EventStore(DjangoEventStoreBackend())


def _racer(db_name: str, worker: int, attempts: int, barrier: Any, results: Any) -> None:
    from toolkit.patterns.exceptions import ConcurrencyConflict

    store = _setup(db_name)
    rng = random.Random(worker)
    won: list[tuple[str, int]] = []
    lost = 0
    errors: list[str] = []
    barrier.wait()
    for attempt in range(attempts):
        stream = rng.choice(STREAMS)
        head = store.stream_head(stream)
        try:
            event = store.append(stream, "Race", "Appended", {"w": worker, "a": attempt}, head)
            won.append((stream, event.sequence))
        except ConcurrencyConflict:
            lost += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    results.put((worker, won, lost, errors))


def _batch_writer(db_name: str, size: int) -> None:
    store = _setup(db_name)
    store.append_batch(
        "killed", "Batch", [("Item", {"i": i, "pad": "x" * 200}) for i in range(size)]
    )


def _steady_writer(db_name: str, worker: int, count: int, barrier: Any) -> None:
    store = _setup(db_name)
    rng = random.Random(worker)
    barrier.wait()
    for i in range(count):
        if rng.random() < 0.3:
            store.append_batch(f"tail-{worker}", "Tail", [("T", {"i": i}), ("T", {"i": i})])
        else:
            store.append(f"tail-{worker % 3}", "Tail", "T", {"i": i})


def _context() -> Any:
    return multiprocessing.get_context("spawn")


def test_eight_processes_racing_on_ten_streams_keep_sequences_exact(postgres_only: None) -> None:
    ctx = _context()
    db_name = connection.settings_dict["NAME"]
    workers, attempts = 8, 60
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_racer, args=(db_name, w, attempts, barrier, results))
        for w in range(workers)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    won = [item for _, w, _, _ in outcomes for item in w]
    lost = sum(lost for _, _, lost, _ in outcomes)
    assert [e for _, _, _, errs in outcomes for e in errs] == []
    assert len(won) + lost == workers * attempts  # every attempt either won or raised
    assert lost > 0  # races happened, and each lost one raised ConcurrencyConflict
    assert Counter(won).most_common(1)[0][1] == 1  # no sequence was handed out twice

    store = EventStore(DjangoEventStoreBackend())
    stored = [(e.aggregate_id, e.sequence) for s in STREAMS for e in store.load(s)]
    assert sorted(stored) == sorted(won)
    for stream in STREAMS:
        sequences = [e.sequence for e in store.load(stream)]
        assert sequences == list(range(1, len(sequences) + 1))
        assert store.stream_head(stream) == len(sequences)


def test_a_writer_killed_during_a_batch_leaves_none_of_it(postgres_only: None) -> None:
    ctx = _context()
    db_name = connection.settings_dict["NAME"]
    proc = ctx.Process(target=_batch_writer, args=(db_name, 20_000))
    proc.start()

    def lock_held() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
                "AND granted",
                [ADVISORY_LOCK_KEY],
            )
            return bool(cursor.fetchone()[0])

    deadline = time.monotonic() + 30
    while not lock_held():
        assert time.monotonic() < deadline, "the child never started its append"
        assert proc.is_alive(), "the child finished before it could be killed"
        time.sleep(0.005)
    time.sleep(0.1)  # mid batch: some INSERT statements ran, the commit did not
    os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
    proc.join(timeout=10)
    assert proc.exitcode == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while lock_held():  # the server aborts the dead client's transaction
        assert time.monotonic() < deadline
        time.sleep(0.05)
    store = EventStore(DjangoEventStoreBackend())
    assert store.load("killed") == []
    assert store.stream_head("killed") == 0
    assert store.head_position() == 0


def test_a_tailing_reader_sees_every_event_exactly_once(postgres_only: None) -> None:
    ctx = _context()
    db_name = connection.settings_dict["NAME"]
    workers, count = 4, 80
    barrier = ctx.Barrier(workers + 1)
    procs = [
        ctx.Process(target=_steady_writer, args=(db_name, w, count, barrier))
        for w in range(workers)
    ]
    for proc in procs:
        proc.start()
    store = EventStore(DjangoEventStoreBackend())
    seen: list[tuple[int, str, int]] = []
    last = 0
    barrier.wait()
    deadline = time.monotonic() + 60
    while any(p.is_alive() for p in procs) and time.monotonic() < deadline:
        for event in store.read_all(last, 7):
            seen.append((event.position, event.aggregate_id, event.sequence))
            last = event.position
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    while batch := store.read_all(last, 100):
        seen.extend((e.position, e.aggregate_id, e.sequence) for e in batch)
        last = batch[-1].position
    positions = [p for p, _, _ in seen]
    assert positions == sorted(set(positions))  # increasing, no duplicates
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, aggregate_id, sequence FROM toolkit_domainevent ORDER BY id")
        assert seen == [tuple(row) for row in cursor.fetchall()]
    assert len(seen) >= workers * count


@pytest.mark.parametrize(
    ("aggregate_id", "expected_seq", "batch"),
    [
        ("warm", 1, 1),
        ("warm", None, 1),
        ("fresh", 0, 1),
        ("warm", 1, 3),
        ("fresh", None, 3),
    ],
    ids=["expected", "any", "new-stream", "batch-expected", "batch-new-stream-any"],
)
def test_an_append_holds_the_lock_before_it_takes_a_position(
    postgres_only: None, aggregate_id: str, expected_seq: int | None, batch: int
) -> None:
    """The ordering the global feed relies on: no position is handed out (``nextval``)
    while another transaction holds the advisory lock."""
    import threading

    import psycopg
    from django.db import connections

    store = EventStore(DjangoEventStoreBackend())
    warm = store.append("warm", "Lock", "Warmed", {})
    settings = connection.settings_dict
    holder = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or "",
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
    )
    results: list[Any] = []

    def append() -> None:
        try:
            results.extend(
                store.append_batch(
                    aggregate_id,
                    "Lock",
                    [("Appended", {"i": i}) for i in range(batch)],
                    expected_seq,
                )
            )
        except Exception as exc:  # reported by the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    def last_position() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT last_value FROM "
                "pg_sequences WHERE sequencename = 'toolkit_domainevent_id_seq'"
            )
            return int(cursor.fetchone()[0])

    def waiting_for_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
                "AND NOT granted",
                [ADVISORY_LOCK_KEY],
            )
            return bool(cursor.fetchone()[0])

    try:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        writer = threading.Thread(target=append)
        writer.start()
        deadline = time.monotonic() + 30
        while not waiting_for_lock():
            assert time.monotonic() < deadline, "the append never waited for the lock"
            assert writer.is_alive(), f"the append did not wait for the lock: {results}"
            time.sleep(0.01)
        assert last_position() == warm.position  # blocked before taking a position
    finally:
        holder.rollback()
        holder.close()
    writer.join(timeout=30)
    assert [(e.position, e.sequence) for e in results] == [
        (warm.position + i, (1 if aggregate_id == "warm" else 0) + i) for i in range(1, batch + 1)
    ]
