"""``lazy`` reads after the first vs ``functools.cached_property`` (the floor).

Run: ``python -m bench.lazy``. Goal: a read after the first within 1.2x of
``cached_property``. Also prints the ttl variant (a lock-free check of the deadline) and a
plain instance attribute for scale.
"""

from __future__ import annotations

import functools
import timeit

from toolkit.patterns.lazy import lazy


class Plain:
    def __init__(self) -> None:
        self.client = object()


class WithCachedProperty:
    @functools.cached_property
    def client(self) -> object:
        return object()


class WithLazy:
    client = lazy(lambda: object())


class WithLazyTtl:
    client = lazy(lambda: object(), ttl=3600.0)


def best(stmt: str, obj: object, number: int, rounds: int = 7) -> float:
    """Best seconds per read of ``obj.client`` over ``rounds``."""
    timer = timeit.Timer(stmt, globals={"obj": obj})
    return min(timer.repeat(repeat=rounds, number=number)) / number


def main() -> None:
    number = 2_000_000
    subjects = {
        "plain attribute": Plain(),
        "cached_property": WithCachedProperty(),
        "lazy": WithLazy(),
        "lazy(ttl=3600)": WithLazyTtl(),
    }
    for obj in subjects.values():
        obj.client  # the first read builds the value  # noqa: B018
    stmt = "obj.client; obj.client; obj.client; obj.client; obj.client"
    timings = {name: float("inf") for name in subjects}
    # Interleaved rounds, best of each: background load hits every subject alike.
    for _ in range(5):
        for name, obj in subjects.items():
            timings[name] = min(timings[name], best(stmt, obj, number // 5, rounds=1) / 5)
    floor = timings["cached_property"]
    print(f"{'read after the first':<22} {'ns/read':>8} {'vs cached_property':>19}")
    for name, seconds in timings.items():
        print(f"{name:<22} {seconds * 1e9:>8.1f} {seconds / floor:>18.2f}x")
    print("goal: lazy <= 1.20x functools.cached_property")


if __name__ == "__main__":
    main()
