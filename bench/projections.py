"""Projection throughput with 1, 2 and 4 ``run_projections`` processes vs a raw SQL loop.

Run (PostgreSQL only: several workers need row locks):
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.projections
[--events 8000] [--workers 1 2 4]``

A scratch database ``bench_projections`` is created. ``--events`` ``Tick`` events are appended
over 200 streams; the projection is the tests' ``tally`` (8 segments; per event one INSERT of
an application row and one UPDATE of the stream's tally, see
``tests/toolkit/eventsourcing/projection_worker.py``). For each worker count: the read model and
the checkpoints are reset, the projection is paused, the worker processes start and share the
segments, then the projection is resumed and timed until every segment reaches the head.

Floor, same run, same database: one raw psycopg loop reading the same events and doing the
same two writes per event, committing every 200 events (what a batch does), without leases,
checkpoints or the ORM. The ratio says what the toolkit's guarantees and the ORM cost, and how
far workers scale on this machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "bench_projections"


def _setup() -> str:
    """Create the scratch database, point Django at it, migrate; return its URL."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("bench.projections needs DATABASE_URL=postgres://... (row locks, several workers)")
    import psycopg

    server = base.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    url = f"{server}/{DB_NAME}"
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def _preload(events: int) -> None:
    from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
    from toolkit.eventsourcing.event_store import EventStore

    store = EventStore(DjangoEventStoreBackend())
    streams = 200
    for s in range(streams):
        store.append_batch(
            f"t-{s}", "Tally", [("Tick", {"n": (s + i) % 9 + 1}) for i in range(events // streams)]
        )


def _reset() -> None:
    from tests.testapp.models import ProjectedApplication, ProjectedTally
    from toolkit.models import ProjectionSegment, ProjectionWorker

    ProjectedApplication.objects.all().delete()
    ProjectedTally.objects.all().delete()
    ProjectionSegment.objects.filter(projection="tally").update(
        position=0, owner="", lease_expires_at=None, events_handled=0
    )
    ProjectionWorker.objects.filter(projection="tally").delete()


def _raw_floor(url: str) -> float:
    """Seconds for one raw psycopg loop to apply every event (two writes each)."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM testapp_projectedapplication")
        conn.execute("DELETE FROM testapp_projectedtally")
        conn.commit()
        start = time.perf_counter()
        position = 0
        while True:
            rows = conn.execute(
                "SELECT id, aggregate_id, payload FROM toolkit_domainevent WHERE id > %s "
                "AND event_type = 'Tick' ORDER BY id LIMIT 200",
                (position,),
            ).fetchall()
            if not rows:
                break
            for pos, aggregate_id, payload in rows:
                conn.execute(
                    "INSERT INTO testapp_projectedapplication (position, aggregate_id) "
                    "VALUES (%s, %s)",
                    (pos, aggregate_id),
                )
                cur = conn.execute(
                    "UPDATE testapp_projectedtally SET count = count + 1, total = total + %s "
                    "WHERE aggregate_id = %s",
                    (payload["n"], aggregate_id),
                )
                if cur.rowcount == 0:
                    conn.execute(
                        "INSERT INTO testapp_projectedtally (aggregate_id, count, total) "
                        "VALUES (%s, 1, %s)",
                        (aggregate_id, payload["n"]),
                    )
            position = rows[-1][0]
            conn.commit()
        return time.perf_counter() - start


def _run_workers(url: str, count: int, head: int) -> float:
    """Seconds for ``count`` worker processes to take the projection from 0 to ``head``."""
    from toolkit.eventsourcing.projections import pause_projection, resume_projection
    from toolkit.models import ProjectionSegment, ProjectionWorker

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
        "TALLY_LEASE": "3",
    }
    pause_projection("tally")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.toolkit.eventsourcing.projection_worker", f"b{i}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(count)
    ]
    try:
        deadline = time.monotonic() + 120
        while True:
            owners = set(
                ProjectionSegment.objects.filter(projection="tally").values_list("owner", flat=True)
            )
            live = ProjectionWorker.objects.filter(projection="tally").count()
            if live == count and len(owners - {""}) == count and "" not in owners:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{count} workers never shared the segments: {owners}")
            time.sleep(0.1)
        start = time.perf_counter()
        resume_projection("tally")
        while ProjectionSegment.objects.filter(projection="tally", position__lt=head).exists():
            time.sleep(0.02)
        return time.perf_counter() - start
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=8000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    url = _setup()
    _preload(args.events)
    from tests.testapp.models import ProjectedApplication
    from tests.toolkit.eventsourcing.projection_worker import _projection_class
    from toolkit.eventsourcing.projections import ensure_rows
    from toolkit.models import DomainEvent

    tally = _projection_class()
    ensure_rows(tally())
    head = DomainEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    floor = args.events / _raw_floor(url)
    print(
        f"{args.events} events, 200 streams, 8 segments (machine shared and noisy: compare ratios)"
    )
    print(f"raw SQL loop (floor): {floor:8.0f} events/s")
    for count in args.workers:
        _reset()
        elapsed = _run_workers(url, count, head)
        applied = ProjectedApplication.objects.count()
        assert applied == args.events, f"{applied} applications for {args.events} events"
        rate = args.events / elapsed
        print(f"{count} worker(s):          {rate:8.0f} events/s   {rate / floor:5.2f}x the floor")


if __name__ == "__main__":
    main()
