"""The event store's stream listing: does a page cost the same with 10x more streams?

Run: ``.venv/bin/python -m bench.stream_listing`` (``BENCH_STREAMS`` sets the large size,
default 200,000; Redis on ``BENCH_REDIS_URL``, default ``redis://127.0.0.1:6379/2``, is skipped
when unreachable). For each backend (memory, Django on a temporary SQLite file, Redis) the
store is filled with ``SMALL`` streams, then with the large size, and at each size we time,
best of ``REPEAT``: the first page (50 streams), a page of one type, a deep page (cursor 90 %
down the listing) and an id-prefix search matching the same 50 streams at both sizes.

Printed per page: the time at the small size, at the large size, their ratio (about 1.0 when a
page never reads every stream) and the floor measured in the same run at the large size: one
full read of the backend's stream index (what a listing without an index would do at least),
divided by the page time (how many pages fit in one full scan).

The machine these figures were taken on is shared by other test runs: read ratios, not
absolute times.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

SMALL = 10_000
LARGE = int(os.environ.get("BENCH_STREAMS", "200000"))
REPEAT = 7
PAGE = 50
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")


def best(func: Callable[[], Any]) -> float:
    """Best wall time of ``REPEAT`` runs, in milliseconds."""
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def measure(store: Any, total: int) -> dict[str, float]:
    """Time the four pages on a store holding ``total`` streams."""
    deep = store.backend.list_streams(limit=int(total * 0.9))[-1].cursor
    return {
        "first page": best(lambda: store.stream_page(limit=PAGE)),
        "one type": best(lambda: store.stream_page(aggregate_type="Cart", limit=PAGE)),
        "deep page": best(lambda: store.stream_page(before=deep, limit=PAGE)),
        "id prefix": best(lambda: store.stream_page(id_prefix="order-00000", limit=PAGE)),
    }


def _name(i: int) -> tuple[str, str]:
    return (f"order-{i:07d}", "Order") if i % 2 else (f"cart-{i:07d}", "Cart")


def fill_with_appends(store: Any, start: int, stop: int) -> None:
    for i in range(start, stop):
        aggregate_id, kind = _name(i)
        store.append(aggregate_id, kind, "Opened", {})


def run(
    name: str, store: Any, fill: Callable[[int, int], None], full_scan: Callable[[], Any]
) -> None:
    fill(0, SMALL)
    small = measure(store, SMALL)
    fill(SMALL, LARGE)
    large = measure(store, LARGE)
    floor = best(full_scan)
    print(f"\n{name}: {SMALL:,} vs {LARGE:,} streams (ms, best of {REPEAT})")
    print(f"  {'page':<12}{'small':>9}{'large':>9}{'large/small':>13}{'full scan/page':>16}")
    for page, small_ms in small.items():
        large_ms = large[page]
        print(
            f"  {page:<12}{small_ms:>9.3f}{large_ms:>9.3f}{large_ms / small_ms:>13.2f}"
            f"{floor / large_ms:>16.1f}"
        )
    print(f"  floor: one full read of the stream index at {LARGE:,} streams: {floor:.1f} ms")


def memory() -> None:
    from toolkit.eventsourcing.backends.memory import MemoryEventStoreBackend
    from toolkit.eventsourcing.event_store import EventStore

    backend = MemoryEventStoreBackend()
    store = EventStore(backend)
    run(
        "memory",
        store,
        lambda a, b: fill_with_appends(store, a, b),
        lambda: sorted(backend._stream_info.items(), key=lambda kv: kv[1][2], reverse=True),
    )


def django_sqlite() -> None:
    directory = tempfile.mkdtemp(prefix="bench-streams-")
    os.environ["DATABASE_URL"] = f"sqlite:///{directory}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
    from toolkit.eventsourcing.event_store import EventStore
    from toolkit.models import EventStream

    call_command("migrate", verbosity=0)
    store = EventStore(DjangoEventStoreBackend())
    base = datetime(2026, 1, 1, tzinfo=UTC)

    def fill(start: int, stop: int) -> None:
        # Stream rows only: the listing reads EventStream; appends would only slow the seeding.
        rows = []
        for i in range(start, stop):
            aggregate_id, kind = _name(i)
            moment = base + timedelta(milliseconds=i)
            rows.append(
                EventStream(
                    aggregate_id=aggregate_id,
                    aggregate_type=kind,
                    last_sequence=1,
                    created_at=moment,
                    updated_at=moment,
                )
            )
        EventStream.objects.bulk_create(rows, batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def full_scan() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT aggregate_id, aggregate_type, last_sequence, updated_at, id "
                "FROM toolkit_eventstream ORDER BY updated_at DESC, id DESC"
            )
            cursor.fetchall()

    run("django (SQLite file)", store, fill, full_scan)


def redis() -> None:
    host, _, rest = REDIS_URL.removeprefix("redis://").partition(":")
    try:
        socket.create_connection((host, int(rest.split("/")[0] or 6379)), timeout=1).close()
    except OSError:
        print(f"\nredis: skipped ({REDIS_URL} is not reachable)")
        return
    import uuid

    from toolkit.eventsourcing.backends.redis import RedisEventStoreBackend
    from toolkit.eventsourcing.event_store import EventStore

    backend = RedisEventStoreBackend.from_url(REDIS_URL, prefix=f"bench:streams:{uuid.uuid4().hex}")
    store = EventStore(backend)
    try:
        run(
            "redis",
            store,
            lambda a, b: fill_with_appends(store, a, b),
            lambda: backend.client.zrevrange(f"{backend.prefix}:recent", 0, -1, withscores=True),
        )
    finally:
        backend.clear()


if __name__ == "__main__":
    memory()
    redis()
    django_sqlite()
