"""subscribe_to handlers and the autodiscovery of handlers.py modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from toolkit.eventsourcing import Aggregate, StoredEvent, subscribe_to
from toolkit.eventsourcing import handlers as handler_registry
from toolkit.patterns.exceptions import EventDispatchError
from toolkit.testing.event_store import FakeEventStore


class Miracle(Aggregate):
    class Happened(Aggregate.Event):
        pass


@pytest.fixture(autouse=True)
def _forget_handlers() -> Iterator[None]:
    yield
    handler_registry.clear()


def test_subscribe_to_an_event_class_receives_its_stored_events() -> None:
    seen: list[StoredEvent] = []

    @subscribe_to(Miracle.Happened)
    def miracle_handler(event: StoredEvent) -> None:
        seen.append(event)

    store = FakeEventStore()
    store.append("m1", "Miracle", "Miracle.Happened", {"where": "here"})
    store.append("m1", "Miracle", "Other", {})
    assert [e.payload for e in seen] == [{"where": "here"}]
    assert handler_registry.handlers_for("Miracle.Happened") == [miracle_handler]


def test_every_handler_runs_and_failures_are_raised_together() -> None:
    seen: list[str] = []

    @subscribe_to("Boom")
    def first(event: StoredEvent) -> None:
        raise ValueError("first failed")

    @subscribe_to("Boom")
    def second(event: StoredEvent) -> None:
        seen.append("second")

    store = FakeEventStore()
    with pytest.raises(EventDispatchError) as info:
        store.append("x", "T", "Boom", {})
    assert seen == ["second"]
    assert info.value.handlers == [
        "test_every_handler_runs_and_failures_are_raised_together.<locals>.first"
    ]
    assert len(store.load("x")) == 1


def test_subscribe_to_rejects_things_that_are_not_events() -> None:
    with pytest.raises(TypeError) as info:
        subscribe_to(42)
    assert str(info.value) == (
        "subscribe_to() takes event classes with an 'event_type' or event type names, not 42"
    )


def test_unsubscribe_removes_the_handler() -> None:
    def handler(event: StoredEvent) -> None: ...

    handler_registry.subscribe(handler, "A", "B")
    handler_registry.unsubscribe(handler, "A")
    assert handler_registry.handlers_for("A") == []
    assert handler_registry.handlers_for("B") == [handler]


def test_handlers_modules_of_installed_apps_are_imported() -> None:
    import sys

    from django.conf import settings

    module = "tests.toolkit.eventsourcing.handlerapp.handlers"
    sys.modules.pop(module, None)
    apps = [*settings.INSTALLED_APPS, "tests.toolkit.eventsourcing.handlerapp"]
    with override_settings(INSTALLED_APPS=apps):
        handler_registry.autodiscover_handlers()
    assert module in sys.modules
    handlers = sys.modules[module]
    assert handler_registry.handlers_for("Discovered.Happened") == [handlers.on_happened]
    FakeEventStore().append("d1", "Discovered", "Discovered.Happened", {})
    assert [e.aggregate_id for e in handlers.received] == ["d1"]


def test_aggregates_modules_of_installed_apps_are_imported_and_registered() -> None:
    import sys

    from django.conf import settings

    from toolkit.registry import aggregates

    module = "tests.toolkit.eventsourcing.handlerapp.aggregates"
    sys.modules.pop(module, None)
    if "Discovered" in aggregates:
        aggregates.unregister("Discovered")
    apps = [*settings.INSTALLED_APPS, "tests.toolkit.eventsourcing.handlerapp"]
    try:
        with override_settings(INSTALLED_APPS=apps):
            handler_registry.autodiscover_aggregates()
        assert module in sys.modules
        assert aggregates.get("Discovered") is sys.modules[module].Discovered
    finally:
        aggregates.unregister("Discovered")


def test_autodiscovery_is_a_startup_hook_aggregates_first() -> None:
    from toolkit import startup

    assert "toolkit.eventsourcing.startup" in startup.STARTUP_MODULES
    hooks = startup._hooks
    assert hooks.index(handler_registry.autodiscover_aggregates) < hooks.index(
        handler_registry.autodiscover_handlers
    )
