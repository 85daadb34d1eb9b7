"""EventBroker: order, sync/async, parallel dispatch, fault isolation, how __call__ decides."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from toolkit.ddd import Dispatched, DomainEvent, EventBroker
from toolkit.patterns.exceptions import EventDispatchError


class Shipped(DomainEvent):
    ref: str


class ExpressShipped(Shipped):
    pass


class Cancelled(DomainEvent):
    ref: str


def test_handlers_run_in_registration_order_sync_and_async_mixed() -> None:
    broker = EventBroker()
    calls: list[str] = []

    @broker.handle(Shipped)
    def first(event: Shipped) -> None:
        calls.append(f"first:{event.ref}")

    @broker.handle(Shipped)
    async def second(event: Shipped) -> None:
        await asyncio.sleep(0)
        calls.append(f"second:{event.ref}")

    @broker.handle(Shipped)
    def third(event: Shipped) -> None:
        calls.append(f"third:{event.ref}")

    result = broker(Shipped(ref="r1"))
    assert calls == ["first:r1", "second:r1", "third:r1"]
    assert isinstance(result, Dispatched)
    assert result.handlers == [
        f"{__name__}.test_handlers_run_in_registration_order_sync_and_async_mixed.<locals>.{n}"
        for n in ("first", "second", "third")
    ]


def test_handlers_of_base_classes_receive_subclass_events_only_matching_ones() -> None:
    broker = EventBroker()
    seen: list[str] = []
    broker.subscribe(Shipped, lambda e: seen.append("shipped"))
    broker.subscribe(ExpressShipped, lambda e: seen.append("express"))
    broker.subscribe(Cancelled, lambda e: seen.append("cancelled"))
    broker(ExpressShipped(ref="r"))
    broker(Shipped(ref="r"))
    assert seen == ["shipped", "express", "shipped"]


def test_every_handler_runs_and_errors_are_gathered_in_order() -> None:
    broker = EventBroker()
    ran: list[str] = []

    @broker.handle(Shipped)
    def boom(event: Shipped) -> None:
        ran.append("boom")
        raise ValueError("no stock")

    @broker.handle(Shipped)
    async def ok(event: Shipped) -> None:
        ran.append("ok")

    @broker.handle(Shipped)
    async def crash(event: Shipped) -> None:
        ran.append("crash")
        raise KeyError("ref")

    with pytest.raises(EventDispatchError) as excinfo:
        broker(Shipped(ref="r1"))
    assert ran == ["boom", "ok", "crash"]
    prefix = f"{__name__}.test_every_handler_runs_and_errors_are_gathered_in_order.<locals>."
    assert excinfo.value.args == (
        f"2 handler(s) failed for 'Shipped': {prefix}boom, {prefix}crash",
    )
    assert [type(e) for e in excinfo.value.exceptions] == [ValueError, KeyError]


def test_call_inside_a_running_loop_returns_a_coroutine_that_runs_on_await() -> None:
    broker = EventBroker()
    calls: list[str] = []
    broker.subscribe(Shipped, lambda e: calls.append("sync"))

    async def handler(event: Shipped) -> None:
        calls.append("async")

    broker.subscribe(Shipped, handler)

    async def main() -> None:
        pending = broker(Shipped(ref="r"))
        assert inspect.iscoroutine(pending)
        assert calls == []  # nothing ran before the await
        result = await pending
        assert isinstance(result, Dispatched)

    asyncio.run(main())
    assert calls == ["sync", "async"]


def test_sync_result_is_awaitable_too() -> None:
    broker = EventBroker()
    calls: list[str] = []
    broker.subscribe(Shipped, lambda e: calls.append(e.ref))
    result = broker(Shipped(ref="r"))
    assert calls == ["r"]

    async def main() -> Dispatched:
        return await result  # type: ignore[misc]

    assert asyncio.run(main()) is result


def test_dispatch_is_sync_even_inside_a_running_loop() -> None:
    broker = EventBroker()
    calls: list[str] = []

    async def handler(event: Shipped) -> None:
        calls.append(event.ref)

    broker.subscribe(Shipped, handler)

    async def main() -> None:
        broker.dispatch(Shipped(ref="inside"))  # runs the async handler on a helper thread
        assert calls == ["inside"]

    asyncio.run(main())


def test_parallel_dispatch_runs_async_handlers_concurrently() -> None:
    broker = EventBroker(parallel=True)
    started: list[str] = []
    both_started = asyncio.Event

    async def run() -> None:
        gate = both_started()

        async def a(event: Shipped) -> None:
            started.append("a")
            if len(started) == 2:
                gate.set()
            await asyncio.wait_for(gate.wait(), 1)

        async def b(event: Shipped) -> None:
            started.append("b")
            if len(started) == 2:
                gate.set()
            await asyncio.wait_for(gate.wait(), 1)

        broker.subscribe(Shipped, a)
        broker.subscribe(Shipped, b)
        await broker.adispatch(Shipped(ref="r"))

    asyncio.run(run())  # sequential dispatch would time out in ``a``
    assert started == ["a", "b"]


def test_parallel_dispatch_reports_errors_in_registration_order() -> None:
    broker = EventBroker(parallel=True)

    async def slow_fail(event: Shipped) -> None:
        await asyncio.sleep(0.01)
        raise ValueError("slow")

    async def fast_fail(event: Shipped) -> None:
        raise KeyError("fast")

    broker.subscribe(Shipped, slow_fail)
    broker.subscribe(Shipped, fast_fail)
    with pytest.raises(EventDispatchError) as excinfo:
        broker.dispatch(Shipped(ref="r"))
    assert [type(e) for e in excinfo.value.exceptions] == [ValueError, KeyError]


def test_unsubscribe_removes_the_handler() -> None:
    broker = EventBroker(require_handler=False)
    calls: list[str] = []

    def handler(event: Shipped) -> None:
        calls.append("x")

    broker.subscribe(Shipped, handler)
    broker.unsubscribe(handler)
    broker(Shipped(ref="r"))
    assert calls == []
    assert broker.handlers_for(Shipped(ref="r")) == []


def test_handle_refuses_non_classes() -> None:
    broker = EventBroker()
    with pytest.raises(TypeError) as excinfo:
        broker.handle("Shipped")  # type: ignore[arg-type]
    assert excinfo.value.args == ("EventBroker.handle() takes event classes, not 'Shipped'",)
    with pytest.raises(TypeError) as excinfo:
        broker.handle()
    assert excinfo.value.args == ("EventBroker.handle() needs at least one event class",)


def test_event_without_handlers_is_a_no_op_when_no_handler_is_required() -> None:
    broker = EventBroker(require_handler=False)
    assert broker(Cancelled(ref="r")).handlers == []  # type: ignore[union-attr]


def test_event_no_handler_accepts_raises_not_implemented_as_in_dddkit() -> None:
    event = Cancelled(ref="r")
    with pytest.raises(NotImplementedError) as excinfo:
        EventBroker()(event)
    assert excinfo.value.args == (f"No suitable event handlers found. {event!r}",)
    with pytest.raises(NotImplementedError):
        asyncio.run(EventBroker(parallel=True).async_publish(event))


def test_predicate_subscriptions_subscribe_unsubscribe_and_register() -> None:
    broker = EventBroker(require_handler=False)
    seen: list[str] = []

    def is_shipped(event: object) -> bool:
        return isinstance(event, Shipped)

    def handler(event: Shipped) -> None:
        seen.append(event.ref)

    broker.subscribe(is_shipped, handler)
    broker.subscribe(lambda e: hasattr(e, "ref"), handler)  # matches too: still runs once
    broker.subscribe(lambda e: False, lambda e: seen.append("never"))
    broker.publish(Shipped(ref="a"))
    assert seen == ["a"]

    @broker.register(lambda e: isinstance(e, Cancelled))
    def on_cancelled(event: Cancelled) -> None:
        seen.append(f"cancelled:{event.ref}")

    broker(Cancelled(ref="b"))  # has a ref too: the hasattr predicate takes it as well
    assert seen == ["a", "b", "cancelled:b"]
    broker.unsubscribe(is_shipped, handler)
    assert broker.handlers_for(Shipped(ref="c")) == [handler]  # the lambda subscription stays
    broker.unsubscribe(is_shipped, handler)  # unknown pair: ignored
    broker.unsubscribe(handler)
    assert broker.handlers_for(Shipped(ref="c")) == []


def test_instance_decorator_is_the_readmes_handle() -> None:
    broker = EventBroker()
    seen: list[object] = []

    @broker.instance(Shipped)
    def on_shipped(event: Shipped) -> None:
        seen.append(event)

    @broker.instance((Cancelled, ExpressShipped))
    async def on_other(event: DomainEvent) -> None:
        seen.append(type(event).__name__)

    @broker.instance(None)
    def on_none(event: None) -> None:
        seen.append("none")

    broker(ExpressShipped(ref="x"))
    broker(None)
    assert seen == [ExpressShipped(ref="x"), "ExpressShipped", "none"]
    with pytest.raises(TypeError) as excinfo:
        broker.instance("Shipped")  # type: ignore[arg-type]
    assert excinfo.value.args == ("EventBroker.instance() takes event classes, not 'Shipped'",)


def test_publish_and_async_publish_are_dispatch_and_adispatch() -> None:
    broker = EventBroker(parallel=True)
    seen: list[str] = []

    @broker.handle(Shipped)
    async def slow(event: Shipped) -> None:
        await asyncio.sleep(0.01)
        seen.append("async")

    broker.subscribe(lambda e: isinstance(e, Shipped), lambda e: seen.append("sync"))
    assert isinstance(broker.publish(Shipped(ref="r")), Dispatched)
    result = asyncio.run(broker.async_publish(Shipped(ref="r")))
    assert result.handlers[0].endswith("slow")
    assert seen == ["sync", "async", "sync", "async"]


def test_unsubscribe_needs_one_or_two_arguments() -> None:
    with pytest.raises(TypeError) as excinfo:
        EventBroker().unsubscribe()
    assert excinfo.value.args == (
        "unsubscribe() takes (handler) or (predicate, handler), not 0 arguments",
    )


def test_parallel_is_the_first_positional_argument_as_in_dddkit() -> None:
    assert EventBroker(True).parallel is True


def test_a_handler_matched_twice_runs_once_and_subscription_changes_are_seen() -> None:
    """The deduplicated handlers of a route are remembered between dispatches; subscribing
    or unsubscribing (a new route) is seen by the next dispatch, and a handler matched by a
    class and a predicate subscription still gets the event once."""
    broker = EventBroker()
    calls: list[str] = []

    def both(event: Shipped) -> None:
        calls.append("both")

    def late(event: Shipped) -> None:
        calls.append("late")

    broker.subscribe(Shipped, both)
    broker.subscribe(lambda event: isinstance(event, Shipped), both)
    broker.subscribe(Shipped, lambda event: calls.append("other"))
    for _ in range(2):
        broker.dispatch(Shipped(ref="a"))
    assert calls == ["both", "other", "both", "other"]
    calls.clear()
    broker.subscribe(Shipped, late)
    broker.dispatch(Shipped(ref="b"))
    assert calls == ["both", "other", "late"]
    calls.clear()
    broker.unsubscribe(Shipped, late)
    broker.unsubscribe(Shipped, both)
    broker.dispatch(Shipped(ref="c"))
    assert calls == ["both", "other"]  # still subscribed through the predicate
    assert broker.handlers_for(Shipped(ref="d"))[0] is both
