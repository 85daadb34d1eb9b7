"""Overhead of Stories and the EventBroker against plain Python, measured in the same run.

    .venv/bin/python -m bench.stories

* a 3-step story with the default hooks (StatusTracker, ExecutionTimeTracker, LoggingHook;
  logging above DEBUG, as in production) vs the same 3 calls in a plain function;
* the same story without hooks, and with the Prometheus hook added;
* ``EventBroker.dispatch`` to 3 handlers vs a plain loop calling them.

Prints microseconds per run (best of several repeats) and the ratio to the floor.
"""

from __future__ import annotations

import logging
import timeit
from typing import Any

from prometheus_client import CollectorRegistry

from toolkit.ddd import DomainEvent, EventBroker
from toolkit.stories import I, State, Story, default_hooks, inject_hooks
from toolkit.stories.prometheus import PrometheusMetricsHook

NUMBER = 20_000
REPEAT = 5


def step_one(state: Any) -> None:
    state.a = 1


def step_two(state: Any) -> None:
    state.b = state.a + 1


def step_three(state: Any) -> None:
    state.c = state.b + 1


def plain(state: Any) -> None:
    step_one(state)
    step_two(state)
    step_three(state)


def make_story() -> type[Story]:
    class ThreeSteps(Story):
        I.one  # noqa: B018
        I.two  # noqa: B018
        I.three  # noqa: B018

        def one(self, state: Any) -> None:
            step_one(state)

        def two(self, state: Any) -> None:
            step_two(state)

        def three(self, state: Any) -> None:
            step_three(state)

    return ThreeSteps


class Happened(DomainEvent):
    value: int


def best(func: Any) -> float:
    """Best time of one call, in microseconds."""
    return min(timeit.repeat(func, number=NUMBER, repeat=REPEAT)) / NUMBER * 1e6


def main() -> None:
    logging.getLogger("toolkit.stories").setLevel(logging.WARNING)
    state = State()

    floor = best(lambda: plain(state))

    bare = make_story()()
    hooked_cls = make_story()
    inject_hooks(hooked_cls)
    hooked = hooked_cls()
    metrics_cls = make_story()
    inject_hooks(
        metrics_cls, hooks=[*default_hooks(), PrometheusMetricsHook(registry=CollectorRegistry())]
    )
    with_metrics = metrics_cls()

    rows = [
        ("plain function, 3 calls (floor)", floor),
        ("story, no hooks", best(lambda: bare(state))),
        ("story, default hooks", best(lambda: hooked(state))),
        ("story, default hooks + Prometheus", best(lambda: with_metrics(state))),
    ]

    seen: list[int] = []

    def h1(event: Happened) -> None:
        seen.append(event.value)

    def h2(event: Happened) -> None:
        seen.append(event.value)

    def h3(event: Happened) -> None:
        seen.append(event.value)

    handlers = [h1, h2, h3]
    broker = EventBroker()
    for handler in handlers:
        broker.subscribe(Happened, handler)
    event = Happened(value=1)

    def plain_loop() -> None:
        for handler in handlers:
            handler(event)
        seen.clear()

    def via_broker() -> None:
        broker.dispatch(event)
        seen.clear()

    loop_floor = best(plain_loop)
    broker_rows = [
        ("plain loop over 3 handlers (floor)", loop_floor),
        ("EventBroker.dispatch, 3 handlers", best(via_broker)),
    ]

    print(f"{'case':45} {'µs/run':>9} {'ratio':>7}")
    for name, value in rows:
        print(f"{name:45} {value:9.2f} {value / floor:6.1f}x")
    for name, value in broker_rows:
        print(f"{name:45} {value:9.2f} {value / loop_floor:6.1f}x")


if __name__ == "__main__":
    main()
