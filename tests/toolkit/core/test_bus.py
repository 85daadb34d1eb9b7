"""The one publish/subscribe engine, and the three faces that delegate to it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from toolkit.core.bus import Engine, Subscription, handler_name, run_coroutine
from toolkit.ddd import EventBroker
from toolkit.eventsourcing import handlers
from toolkit.patterns import EventBus


def by_name(name: str) -> Any:
    return lambda key, _event: key == name


def test_handlers_run_in_subscription_order_whatever_matched_them() -> None:
    engine = Engine()
    seen: list[str] = []
    engine.add(Subscription("exact", lambda m: seen.append("exact"), by_name("a")))
    engine.add(
        Subscription(
            "predicate", lambda m: seen.append("predicate"), lambda _k, e: e > 1, per_event=True
        )
    )
    engine.add(Subscription("any", lambda m: seen.append("any"), lambda _k, _e: True))

    assert engine.run(engine.route("a", 2), 2) == []
    assert seen == ["exact", "predicate", "any"]
    seen.clear()
    engine.run(engine.route("a", 1), 1)  # the predicate is asked again for each event
    assert seen == ["exact", "any"]


def test_routes_are_cached_per_key_until_the_subscriptions_change() -> None:
    engine = Engine()
    calls: list[object] = []

    def test(key: object, _event: object) -> bool:
        calls.append(key)
        return True

    engine.add(Subscription("k", print, test))
    engine.route("a")
    engine.route("a")
    assert calls == ["a"]
    engine.add(Subscription("k2", print, by_name("b")))
    engine.route("a")
    assert calls == ["a", "a"]
    assert engine.remove(lambda s: s.key == "k2") == 1
    assert engine.remove(lambda s: s.key == "nope") == 0


def test_unique_keeps_one_subscription_per_key_and_handler() -> None:
    engine = Engine()
    first = engine.add(Subscription("a", print, by_name("a")), unique=True)
    again = engine.add(Subscription("a", print, by_name("a")), unique=True)
    assert again is first and len(engine.subscriptions) == 1


def test_every_handler_runs_and_failures_come_back_in_order() -> None:
    engine = Engine()
    seen: list[int] = []

    def boom(message: int) -> None:
        raise ValueError(message)

    async def aboom(message: int) -> None:
        raise KeyError(message)

    for sub in (
        Subscription("a", boom, by_name("a")),
        Subscription("a", seen.append, by_name("a")),
        Subscription("a", aboom, by_name("a")),
    ):
        engine.add(sub)

    failures = engine.run(engine.route("a"), 7)
    assert seen == [7]
    assert [(sub.handler, type(exc)) for sub, exc in failures] == [
        (boom, ValueError),
        (aboom, KeyError),
    ]
    failures = asyncio.run(engine.arun(engine.route("a"), 8, parallel=True))
    assert [type(exc) for _, exc in failures] == [ValueError, KeyError]


def test_sync_handlers_run_in_the_calling_thread_async_ones_to_completion() -> None:
    engine = Engine()
    threads: list[str] = []

    async def later(message: object) -> None:
        await asyncio.sleep(0)
        threads.append("async")

    engine.add(
        Subscription("a", lambda m: threads.append(threading.current_thread().name), by_name("a"))
    )
    engine.add(Subscription("a", later, by_name("a")))
    engine.run(engine.route("a"), None)
    assert threads == [threading.current_thread().name, "async"]


def test_parallel_runs_async_handlers_concurrently_after_the_sync_ones() -> None:
    engine = Engine()
    order: list[str] = []

    async def first(message: object) -> None:
        order.append("first starts")
        await asyncio.sleep(0.01)
        order.append("first ends")

    async def second(message: object) -> None:
        order.append("second starts")
        await asyncio.sleep(0)
        order.append("second ends")

    engine.add(Subscription("a", first, by_name("a")))
    engine.add(Subscription("a", lambda m: order.append("sync"), by_name("a")))
    engine.add(Subscription("a", second, by_name("a")))
    engine.run(engine.route("a"), None, parallel=True)
    assert order == ["sync", "first starts", "second starts", "second ends", "first ends"]


def test_run_from_inside_a_running_loop_uses_a_helper_thread() -> None:
    engine = Engine()
    seen: list[int] = []

    async def handler(message: int) -> None:
        seen.append(message)

    engine.add(Subscription("a", handler, by_name("a")))

    async def main() -> None:
        engine.run(engine.route("a"), 3)  # a sync publish from async code

    asyncio.run(main())
    assert seen == [3]


def test_run_coroutine_reraises_the_error_from_the_helper_thread() -> None:
    async def fail() -> None:
        raise LookupError("inside")

    async def main() -> None:
        with pytest.raises(LookupError, match="inside"):
            run_coroutine(fail)

    asyncio.run(main())


def test_run_coroutine_on_the_helper_thread_sees_the_callers_context() -> None:
    """Under a running loop the coroutine runs on a helper thread; it still sees the
    caller's context variables (an event handler's event context, say)."""
    from contextvars import ContextVar

    marker: ContextVar[str] = ContextVar("marker", default="unset")
    seen: list[str] = []

    async def read() -> None:
        seen.append(marker.get())

    async def main() -> None:
        marker.set("caller")
        run_coroutine(read)

    asyncio.run(main())
    assert seen == ["caller"]


def test_arun_can_run_sync_handlers_in_a_worker_thread() -> None:
    engine = Engine()
    threads: list[str] = []
    engine.add(
        Subscription("a", lambda m: threads.append(threading.current_thread().name), by_name("a"))
    )

    asyncio.run(engine.arun(engine.route("a"), None, sync_in_thread=True))
    asyncio.run(engine.arun(engine.route("a"), None))
    assert threads[0] != threads[1] == threading.main_thread().name


def test_handler_name_is_module_and_qualname() -> None:
    assert handler_name(test_handler_name_is_module_and_qualname) == (
        f"{__name__}.test_handler_name_is_module_and_qualname"
    )
    assert repr(Subscription("a", print, by_name("a"))) == "<Subscription 'a' -> builtins.print>"


def test_the_three_faces_delegate_to_the_engine() -> None:
    bus = EventBus()
    broker = EventBroker()
    bus.on("order.*")(print)
    broker.subscribe(ValueError, print)
    assert isinstance(bus._engine, Engine) and isinstance(broker._engine, Engine)
    assert [s.key for s in bus._engine.subscriptions] == ["order.*"]
    assert [s.key for s in broker._engine.subscriptions] == [(ValueError,)]
    assert isinstance(handlers._engine, Engine)
