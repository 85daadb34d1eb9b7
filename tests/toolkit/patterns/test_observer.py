"""EventBus: subscriptions, wildcards, order, sync/async handlers, fault isolation."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync

from toolkit.patterns.exceptions import EventDispatchError, ValidationError
from toolkit.patterns.observer import EventBus, default_bus, get_default_bus


@pytest.fixture
def bus() -> EventBus:
    return EventBus(backend="default")


def test_handler_receives_payload_of_its_event(bus: EventBus) -> None:
    seen = []

    @bus.on("order.paid")
    def send_receipt(payload):
        seen.append(payload)

    bus.emit("order.paid", {"email": "user@example.com", "amount": 99.99})
    bus.emit("order.shipped", {"tracking": "ABC123"})

    assert seen == [{"email": "user@example.com", "amount": 99.99}]


def test_on_returns_the_function_unchanged(bus: EventBus) -> None:
    def handler(payload):
        return payload

    assert bus.on("x")(handler) is handler


@pytest.mark.parametrize(
    ("pattern", "event", "matches"),
    [
        ("order.*", "order.paid", True),
        ("order.*", "order.item.added", True),
        ("order.*", "orders.paid", False),
        ("order.*", "order", False),
        ("*", "anything.at.all", True),
        ("order.?aid", "order.paid", True),
        ("order.paid", "order.paid", True),
        ("order.paid", "order.paid2", False),
    ],
    ids=lambda v: str(v),
)
def test_wildcard_patterns(bus: EventBus, pattern: str, event: str, matches: bool) -> None:
    seen = []
    bus.subscribe(pattern, seen.append)
    bus.emit(event, 1)
    assert seen == ([1] if matches else [])


def test_handlers_run_in_registration_order_across_patterns(bus: EventBus) -> None:
    calls = []
    bus.subscribe("order.*", lambda p: calls.append("wild-1"))
    bus.subscribe("order.paid", lambda p: calls.append("exact"))
    bus.subscribe("*", lambda p: calls.append("all"))

    async def async_handler(payload):
        await asyncio.sleep(0)
        calls.append("async")

    bus.subscribe("order.paid", async_handler)
    bus.subscribe("order.*", lambda p: calls.append("wild-2"))

    bus.emit("order.paid")

    assert calls == ["wild-1", "exact", "all", "async", "wild-2"]


def test_emit_runs_async_handlers_to_completion(bus: EventBus) -> None:
    seen = []

    @bus.on("order.*")
    async def log_order_event(payload):
        await asyncio.sleep(0)
        seen.append(payload)

    bus.emit("order.shipped", {"tracking": "ABC123"})

    assert seen == [{"tracking": "ABC123"}]


def test_aemit_awaits_async_and_runs_sync_handlers_in_order(bus: EventBus) -> None:
    calls = []

    @bus.on("order.shipped")
    def sync_handler(payload):
        calls.append(("sync", payload["tracking"]))

    @bus.on("order.*")
    async def async_handler(payload):
        await asyncio.sleep(0)
        calls.append(("async", payload["tracking"]))

    async_to_sync(bus.aemit)("order.shipped", {"tracking": "ABC123"})

    assert calls == [("sync", "ABC123"), ("async", "ABC123")]


def test_sync_emit_from_inside_a_running_loop_runs_async_handlers(bus: EventBus) -> None:
    seen = []

    @bus.on("ping")
    async def handler(payload):
        seen.append(payload)

    async def main():
        bus.emit("ping", 7)

    asyncio.run(main())
    assert seen == [7]


def test_failing_handlers_do_not_stop_the_others_and_errors_are_gathered(bus: EventBus) -> None:
    calls = []

    def first(payload):
        raise ValueError("first broke")

    async def second(payload):
        raise KeyError("second broke")

    bus.subscribe("evt", first)
    bus.subscribe("evt", second)
    bus.subscribe("evt", lambda p: calls.append("third ran"))

    with pytest.raises(EventDispatchError) as info:
        bus.emit("evt")

    assert calls == ["third ran"]
    err = info.value
    assert err.event == "evt"
    assert err.handlers == [
        f"{__name__}.test_failing_handlers_do_not_stop_the_others_and_errors_are_gathered.<locals>.first",
        f"{__name__}.test_failing_handlers_do_not_stop_the_others_and_errors_are_gathered.<locals>.second",
    ]
    assert [type(e) for e in err.exceptions] == [ValueError, KeyError]
    assert str(err).startswith("2 handler(s) failed for 'evt': ")


def test_seed_example_sync_handler_and_async_wildcard_handler(bus: EventBus) -> None:
    sent: list = []
    logged: list = []

    @bus.on("order.paid")
    def send_receipt(payload):
        sent.append((payload["email"], "Your receipt"))

    @bus.on("order.*")  # wildcard: matches any order.* event
    async def log_order_event(payload):
        await asyncio.sleep(0)
        logged.append(payload)

    bus.emit("order.paid", {"email": "user@example.com", "amount": 99.99})
    async_to_sync(bus.aemit)("order.shipped", {"tracking": "ABC123"})
    bus.emit("invoice.paid", {"ignored": True})

    assert sent == [("user@example.com", "Your receipt")]
    assert logged == [{"email": "user@example.com", "amount": 99.99}, {"tracking": "ABC123"}]


def test_dispatch_error_shows_its_event_and_errors() -> None:
    boom = RuntimeError("boom")
    err = EventDispatchError("order.paid", [("shop.handlers.mail", boom)])
    assert repr(err) == (
        "EventDispatchError(event='order.paid', "
        "failures=[('shop.handlers.mail', RuntimeError('boom'))])"
    )
    assert str(err) == "1 handler(s) failed for 'order.paid': shop.handlers.mail"
    assert err.errors == err.exceptions == [boom]


def test_dispatch_error_errors_are_the_raised_exceptions_as_published() -> None:
    # dmr-toolkit 0.1.0: EventDispatchError(event_type=..., errors=[exc, ...]); .errors is
    # the list of the exceptions themselves, so `for e in err.errors: log(e)` works.
    first, second = ValueError("bad"), KeyError("missing")
    err = EventDispatchError(event_type="order.created", errors=[first, second])
    assert err.errors == [first, second]
    assert err.event_type == err.event == "order.created"
    assert err.handlers == ["<handler>", "<handler>"]
    assert str(err) == "2 handler(s) failed for 'order.created': <handler>, <handler>"


def test_emit_failure_errors_are_the_handler_exceptions(bus: EventBus) -> None:
    boom = RuntimeError("boom")

    def bad(payload):
        raise boom

    bus.subscribe("e", bad)
    with pytest.raises(EventDispatchError) as info:
        bus.emit("e")
    assert info.value.errors == [boom]
    assert all(isinstance(e, Exception) for e in info.value.errors)


def test_aemit_gathers_errors_of_sync_and_async_handlers(bus: EventBus) -> None:
    def bad_sync(payload):
        raise RuntimeError("sync")

    async def bad_async(payload):
        raise RuntimeError("async")

    bus.subscribe("e", bad_sync)
    bus.subscribe("e", bad_async)

    with pytest.raises(EventDispatchError) as info:
        async_to_sync(bus.aemit)("e", None)

    assert [str(e) for e in info.value.exceptions] == ["sync", "async"]


def test_sync_only_failure_is_gathered(bus: EventBus) -> None:
    def bad(payload):
        raise RuntimeError("boom")

    bus.subscribe("e", bad)
    with pytest.raises(EventDispatchError) as info:
        bus.emit("e")
    assert [str(e) for e in info.value.exceptions] == ["boom"]


def test_off_removes_one_handler_and_invalidates_the_cache(bus: EventBus) -> None:
    seen = []

    def a(payload):
        seen.append("a")

    def b(payload):
        seen.append("b")

    bus.subscribe("order.*", a)
    bus.subscribe("order.*", b)
    bus.emit("order.paid")  # fills the cache
    assert bus.off("order.*", a) == 1
    bus.emit("order.paid")

    assert seen == ["a", "b", "b"]
    assert bus.handlers("order.paid") == [b]


def test_off_variants(bus: EventBus) -> None:
    def a(payload):
        return None

    def b(payload):
        return None

    bus.subscribe("x", a)
    bus.subscribe("y", a)
    bus.subscribe("x", b)
    assert bus.off(handler=a) == 2
    assert bus.handlers("x") == [b]
    assert bus.off("x") == 1
    bus.subscribe("z", a)
    assert bus.off() == 1
    assert bus.handlers("z") == []


def test_subscribe_after_emit_is_seen(bus: EventBus) -> None:
    seen = []
    bus.emit("late")  # caches "no handlers"
    bus.subscribe("l*", seen.append)
    bus.emit("late", 1)
    assert seen == [1]


def test_emit_without_handlers_is_a_no_op(bus: EventBus) -> None:
    bus.emit("nobody.listens", {"x": 1})


def test_bad_subscriptions_are_rejected_with_the_value(bus: EventBus) -> None:
    with pytest.raises(ValidationError) as info:
        bus.subscribe("", print)
    assert info.value.args == ("Event name must be a non-empty string, not ''",)
    with pytest.raises(ValidationError) as info:
        bus.subscribe("evt", "not callable")  # type: ignore[arg-type]
    assert info.value.args == ("Handler for 'evt' must be callable, not 'not callable'",)


def test_unknown_backend_lists_the_choices() -> None:
    with pytest.raises(ValidationError) as info:
        EventBus(backend="kafka")  # type: ignore[arg-type]
    assert info.value.args == (
        "Unknown EventBus backend 'kafka'; valid backends are: 'celery', 'default'",
    )


def test_default_bus_is_shared() -> None:
    assert get_default_bus() is default_bus
    assert isinstance(default_bus, EventBus)


def test_docs_page_examples_run() -> None:
    from tests.toolkit.patterns.docs_examples import run_page

    namespace = run_page("observer.md")
    assert namespace["bus"].handlers("order.refunded") == [namespace["log_order_event"]]
