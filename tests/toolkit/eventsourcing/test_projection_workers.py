"""Parallel projection workers on PostgreSQL with real processes: leases, a SIGKILLed worker,
writers appending all along, late commits and holes in the positions.

The workers are real ``manage.py run_projections`` processes
(:mod:`tests.toolkit.eventsourcing.projection_worker`) running the ``tally`` projection
(8 segments) against this test's database. ``TOOLKIT_SCALE_EVENTS`` sets the number of
preloaded events (default 2,000 to keep the test near a minute on the shared, loaded 2-core
box; the 100,000 run is recorded in docs/projections.md).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.test import override_settings

from tests.testapp.models import ProjectedApplication, ProjectedTally
from tests.toolkit.eventsourcing.projection_worker import late_writer
from tests.toolkit.eventsourcing.projection_worker import writer as tick_writer
from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
from toolkit.eventsourcing.event_store import EventStore
from toolkit.eventsourcing.projections import ProjectionRunner
from toolkit.models import ProjectionCheckpoint, ProjectionSegment
from toolkit.registry import projections

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
LEASE = 3.0
STREAMS = 200


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


def _start_worker(worker_id: str, log_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TALLY_LEASE": str(LEASE),
        "PYTHONPATH": str(ROOT),
    }
    log = (log_dir / f"{worker_id}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.toolkit.eventsourcing.projection_worker", worker_id],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _owners() -> dict[int, str]:
    return dict(
        ProjectionSegment.objects.filter(projection="tally").values_list("segment", "owner")
    )


def _wait(predicate: Any, timeout: float, what: str, procs: list[Any] = ()) -> float:
    start = time.monotonic()
    while not predicate():
        for proc in procs:
            assert proc.poll() is None, f"a worker exited with {proc.returncode} ({what})"
        assert time.monotonic() - start < timeout, f"timed out after {timeout}s: {what}"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
def tally() -> Iterator[type]:
    from tests.toolkit.eventsourcing.projection_worker import _projection_class

    cls = _projection_class()
    yield cls
    projections.unregister("tally")


def _assert_exactly_once_and_equal_to_a_recomputation(store: EventStore) -> int:
    duplicates = (
        ProjectedApplication.objects.values("position")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    assert duplicates == 0
    expected: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    positions = []
    after = 0
    while batch := store.read_all(after, 5000):
        for event in batch:
            if event.event_type == "Tick":
                expected[event.aggregate_id] += 1
                totals[event.aggregate_id] += event.payload["n"]
                positions.append(event.position)
        after = batch[-1].position
    applied = sorted(ProjectedApplication.objects.values_list("position", flat=True))
    assert applied == positions  # every Tick once, no other event
    model = {t.aggregate_id: (t.count, t.total) for t in ProjectedTally.objects.all()}
    assert model == {a: (expected[a], totals[a]) for a in expected}
    return len(positions)


def test_three_workers_one_killed_apply_every_event_exactly_once(
    postgres_only: None, tally: type, tmp_path: Path
) -> None:
    total = int(os.environ.get("TOOLKIT_SCALE_EVENTS", "2000"))
    store = EventStore(DjangoEventStoreBackend())
    per_stream = total // STREAMS
    for s in range(STREAMS):
        events: list[tuple[str, dict[str, Any]]] = [
            ("Tick", {"n": (s + i) % 9 + 1}) for i in range(per_stream)
        ]
        events.append(("Tock", {}))  # not the projection's type: counted nowhere
        store.append_batch(f"t-{s}", "Tally", events)
    workers = {f"w{i}": _start_worker(f"w{i}", tmp_path) for i in range(3)}
    procs = list(workers.values())
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    counts = ctx.Queue()
    db_name = connection.settings_dict["NAME"]
    writers = [
        ctx.Process(target=tick_writer, args=(db_name, w, STREAMS, stop, counts)) for w in range(2)
    ]
    try:
        for writer in writers:
            writer.start()
        # All three hold segments (fair share: 3, 3, 2) and work is under way.
        _wait(
            lambda: len({o.split(":")[0] for o in _owners().values() if o}) == 3,
            60,
            "three workers sharing the segments",
            procs,
        )
        _wait(
            lambda: ProjectedApplication.objects.count() >= total // 4,
            120 + total / 100,
            "a quarter of the events applied",
            procs,
        )
        victim = "w0"
        held = sorted(s for s, o in _owners().items() if o.startswith(f"{victim}:"))
        assert held, "the victim held no segment when it was killed"
        workers[victim].send_signal(signal.SIGKILL)
        assert workers[victim].wait(10) == -signal.SIGKILL
        taken = _wait(
            lambda: all(
                o and not o.startswith(f"{victim}:") for s, o in _owners().items() if s in held
            ),
            LEASE * 4,
            "the killed worker's segments taken over",
        )
        # The lease expires at most LEASE after the kill; survivors claim at their next beat
        # (every LEASE / 3); one more second for a batch in progress on this busy machine.
        assert taken <= LEASE + LEASE / 3 + 1.0, f"taken over after {taken:.2f}s"
        time.sleep(1.0)
        stop.set()
        appended = sum(counts.get(timeout=30) for _ in writers)
        for writer in writers:
            writer.join(30)
            assert writer.exitcode == 0
        assert appended > 0
        head = store.head_position()
        survivors = [p for w, p in workers.items() if w != victim]
        _wait(
            lambda: all(
                p >= head
                for p in ProjectionSegment.objects.filter(projection="tally").values_list(
                    "position", flat=True
                )
            ),
            180 + total / 50,  # about 100 events/s per worker on the loaded 2-core box
            "every segment at the head",
            survivors,
        )
        for proc in survivors:
            proc.send_signal(signal.SIGTERM)
        for proc in survivors:
            assert proc.wait(30) == 0
    finally:
        stop.set()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        for writer in writers:
            if writer.is_alive():
                writer.kill()
    applied = _assert_exactly_once_and_equal_to_a_recomputation(store)
    assert applied == per_stream * STREAMS + appended
    # Stopped workers gave their segments back; nobody is left holding one.
    assert set(_owners().values()) == {""}
    print(
        f"\n{applied} events ({appended} appended while running), 3 workers, one SIGKILLed; "
        f"its segments {held} taken over {taken:.2f}s after the kill (lease {LEASE}s)"
    )


def test_a_late_committing_writer_is_not_skipped(
    postgres_only: None, tally: type, tmp_path: Path
) -> None:
    store = EventStore(DjangoEventStoreBackend())
    for s in range(20):
        store.append(f"t-{s}", "Tally", "Tick", {"n": 1})
    workers = [_start_worker(f"w{i}", tmp_path) for i in range(2)]
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    late = ctx.Process(target=late_writer, args=(connection.settings_dict["NAME"], ready, 2.0))
    try:
        late.start()
        assert ready.wait(60)
        # Appended (and committed) while the late transaction is open; they get the positions
        # after its one and commit after it.
        others = threading.Thread(
            target=lambda: [
                EventStore(DjangoEventStoreBackend()).append(f"t-{i}", "Tally", "Tick", {"n": 2})
                for i in range(10)
            ]
        )
        others.start()
        late.join(30)
        assert late.exitcode == 0
        others.join(30)
        head = store.head_position()
        _wait(
            lambda: ProjectedApplication.objects.filter(position__lte=head).count() == 31,
            60,
            "all 31 events applied",
            workers,
        )
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        for proc in workers:
            assert proc.wait(30) == 0
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
    _assert_exactly_once_and_equal_to_a_recomputation(store)
    assert ProjectedTally.objects.get(aggregate_id="late").total == 1000


class _OutOfOrderBackend(DjangoEventStoreBackend):
    """The Django backend, declared as one whose appends may commit out of position order
    (what the gap handling is for); the test makes such a hole with a raw INSERT."""

    positions_commit_in_order = False


def _raw_insert(raw: Any, aggregate_id: str, n: int) -> int:
    row = raw.execute(
        "INSERT INTO toolkit_domainevent (event_id, aggregate_id, aggregate_type, sequence, "
        "event_type, schema_version, payload, metadata, correlation_id, causation_id, user_id, "
        "created_at) VALUES (%s, %s, 'Tally', 1, 'Tick', 1, %s::jsonb, '{}'::jsonb, '', '', '', "
        "now()) RETURNING id",
        (uuid.uuid4(), aggregate_id, f'{{"n": {n}}}'),
    ).fetchone()
    return int(row[0])


def test_a_hole_in_the_positions_is_waited_for_then_skipped_and_reported(
    postgres_only: None, tally: type
) -> None:
    import psycopg

    store = EventStore(_OutOfOrderBackend())
    store.append("a", "Tally", "Tick", {"n": 1})
    params = connection.get_connection_params()
    toolkit = {"eventsourcing": {"projection_gap_timeout": 1.5}}
    with override_settings(TOOLKIT=toolkit), psycopg.connect(**params) as late:
        runner = ProjectionRunner("tally", store=store)
        runner.start()
        try:
            # The positions below "a" (earlier tests' sequence values) are a hole as well.
            _wait(lambda: runner.step() == 1, 10, "the positions before 'a' skipped")
            skipped_before = ProjectionCheckpoint.objects.get(name="tally").gaps_skipped
            late_position = _raw_insert(late, "late", 100)  # not committed yet
            store.append("b", "Tally", "Tick", {"n": 2})  # committed, after the hole
            assert runner.step() == 0  # the batch stops before the hole
            assert runner.step() == 0  # still waiting
            late.commit()  # the late event arrives within the timeout
            assert runner.step() == 2  # late and b
            assert sorted(ProjectedApplication.objects.values_list("aggregate_id", flat=True)) == [
                "a",
                "b",
                "late",
            ]
            assert ProjectedApplication.objects.get(aggregate_id="late").position == late_position
            # A hole that never fills (a rolled-back insert) is skipped after the timeout.
            never = _raw_insert(late, "never", 1)
            late.rollback()
            store.append("c", "Tally", "Tick", {"n": 3})
            first_seen = time.monotonic()
            assert runner.step() == 0
            _wait(lambda: runner.step() == 1, 10, "the hole skipped")
            assert time.monotonic() - first_seen >= 1.4
        finally:
            runner.stop()
    checkpoint = ProjectionCheckpoint.objects.get(name="tally")
    assert checkpoint.gaps_skipped == skipped_before + 1
    assert checkpoint.last_gap.startswith(f"positions {never} missing after ")
    assert ProjectedTally.objects.get(aggregate_id="c").total == 3
    assert not ProjectedTally.objects.filter(aggregate_id="never").exists()


def test_a_supervisor_restarts_a_stalled_worker_then_gives_up(
    postgres_only: None, tmp_path: Path
) -> None:
    store = EventStore(DjangoEventStoreBackend())
    store.append("h-1", "Hang", "Stuck", {"hang": True})
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "supervisor.log"
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.toolkit.eventsourcing.supervised_worker"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        timeout=120,
        check=False,
    )
    output = log.read_text()
    assert proc.returncode == 1, output
    lines = [line for line in output.splitlines() if line.startswith("supervisor:")]
    assert [line.split()[1] for line in lines] == ["started", "worker", "started", "worker"]
    assert "sent no heartbeat for 2s; restarting" in lines[1]
    assert "gave up after 1 restart(s) (max 1)" in lines[3]
    checkpoint = ProjectionCheckpoint.objects.get(name="hangs")
    assert (checkpoint.restarts, checkpoint.status) == (1, "stalled")
    # Its segment was given back at once, not left to a lease.
    assert ProjectionSegment.objects.get(projection="hangs").owner == ""
    assert time.monotonic() - started < 60
