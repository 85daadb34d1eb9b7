"""Timing helper shared by the micro-benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_per_loop(func: Callable[[], None], *, rounds: int, loops: int) -> float:
    """Run ``func`` (which loops ``loops`` times) ``rounds`` times; best time per loop in µs."""
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        timings.append((time.perf_counter() - start) / loops * 1e6)
    return min(timings)
