"""``@cached`` hit vs a direct ``cache.get`` of the same value on the same backend.

Run: ``python -m bench.cache`` (``REDIS_URL`` picks the Redis server, default db 12 on
127.0.0.1). Goal: a hit within 2x of the direct get, and one cache round trip per hit (the
script counts the backend calls). Redis rows are skipped when the server is not reachable; the
Memcached row starts its own ``memcached`` (Debian's package) on a free loopback port and is
skipped when the binary or ``pymemcache`` is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import time
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

import django
from django.conf import settings

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12")


def _configure(memcached_location: str) -> None:
    if settings.configured:
        return
    settings.configure(
        INSTALLED_APPS=[],
        CACHES={
            "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "redis": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL,
                "KEY_PREFIX": "bench-cache",
            },
            "memcached": {
                "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
                "LOCATION": memcached_location,
                "KEY_PREFIX": "bench-cache",
            },
        },
        TOOLKIT={"patterns": {"cache_backend": "locmem"}},
    )
    django.setup()


def _start_memcached() -> tuple[subprocess.Popen[bytes], str] | None:
    """Our own memcached on a free loopback port, or None when it cannot run here."""
    binary = shutil.which("memcached")
    if binary is None or find_spec("pymemcache") is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "16"]
    if os.geteuid() == 0:
        command += ["-u", "nobody"]  # memcached refuses to run as root
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    server.kill()
    return None


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1.0):
            return True
    except OSError:
        return False


def _rate(func: Callable[[], Any], number: int, repeat: int = 7) -> float:
    """Best-of-``repeat`` seconds per call."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            func()
        timings.append((time.perf_counter() - start) / number)
    return min(timings)


class _Counter:
    """Wraps a cache backend and counts calls that reach it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name in {"get", "get_many", "set", "add", "incr", "set_many", "delete"}:

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls += 1
                return attr(*args, **kwargs)

            return counted
        return attr


def run_backend(alias: str, number: int) -> dict[str, float]:
    from django.core.cache import caches
    from django.test.utils import override_settings

    from toolkit.patterns import cache as cache_module
    from toolkit.patterns.cache import cached

    with override_settings(TOOLKIT={"patterns": {"cache_backend": alias}}):
        cache = caches[alias]

        @cached(ttl=300, key_prefix="bench:orders:", vary_on=["user_id"])
        def get_user_orders(user_id: int) -> list[int]:
            return [user_id, 1, 2, 3]

        get_user_orders(user_id=42)  # the miss that fills the entry
        # The floor reads the very entry the hit reads (same key, same stored bytes), so the
        # ratio is the decorator's own cost: key building, version check, span check.
        key = get_user_orders.cache_key(user_id=42)  # type: ignore[attr-defined]
        assert get_user_orders(user_id=42) == cache.get(key)[1]

        counter = _Counter(cache)
        original = cache_module._cache
        cache_module._cache = lambda alias: counter
        try:
            get_user_orders(user_id=42)
        finally:
            cache_module._cache = original
        # Interleaved rounds, best of each: background load hits both sides alike.
        direct, hit = float("inf"), float("inf")
        for _ in range(7):
            direct = min(direct, _rate(lambda: cache.get(key), number, repeat=1))
            hit = min(hit, _rate(lambda: get_user_orders(user_id=42), number, repeat=1))
        via_caches = _rate(lambda: caches[alias].get(key), number, repeat=3)
    return {
        "direct": direct,
        "via_caches": via_caches,
        "hit": hit,
        "round_trips": counter.calls,
    }


def main() -> None:
    memcached = _start_memcached()
    try:
        _run(memcached[1] if memcached else None)
    finally:
        if memcached is not None:
            memcached[0].terminate()
            memcached[0].wait(timeout=10)


def _run(memcached_location: str | None) -> None:
    # Without a server the alias still needs a LOCATION; its row is skipped below.
    _configure(memcached_location or "127.0.0.1:11211")
    rows = [("LocMemCache", "locmem", 50_000)]
    if _redis_up():
        rows.append(("RedisCache", "redis", 3_000))
    else:
        print(f"Redis not reachable at {REDIS_URL}: RedisCache row skipped")
    if memcached_location is not None:
        rows.append(("PyMemcache", "memcached", 3_000))
    else:
        print("memcached or pymemcache missing: PyMemcacheCache row skipped")
    print(f"{'backend':<12} {'direct get':>12} {'@cached hit':>12} {'ratio':>7} {'trips':>6}")
    for label, alias, number in rows:
        ratios = []
        result: dict[str, float] = {}
        for _ in range(3):
            result = run_backend(alias, number)
            ratios.append(result["hit"] / result["direct"])
        ratio = statistics.median(ratios)
        print(
            f"{label:<12} {result['direct'] * 1e6:>10.2f}us {result['hit'] * 1e6:>10.2f}us "
            f"{ratio:>6.2f}x {int(result['round_trips']):>6}"
        )
    print("goal: @cached hit <= 2.00x a direct cache.get, 1 round trip per hit")


if __name__ == "__main__":
    main()
