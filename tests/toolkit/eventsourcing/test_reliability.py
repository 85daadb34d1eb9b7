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
