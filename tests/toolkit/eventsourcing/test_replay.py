"""Replay helpers for the panel: state at N, the change made by N, the replay log."""

from __future__ import annotations

import pytest

from tests.toolkit.eventsourcing.test_aggregate import Todo
from toolkit.eventsourcing import AggregateRepository
from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
from toolkit.eventsourcing.replay import Change, change_at, replay_log, state_at
from toolkit.patterns.event_store import EventStore
from toolkit.testing.event_store import FakeEventStore


@pytest.fixture
def store() -> FakeEventStore:
    store = FakeEventStore()
    store.append("order-42", "Order", "OrderCreated", {"user_id": 42, "total": 99.99})
    store.append("order-42", "Order", "OrderPaid", {"method": "card", "total": 89.99})
    store.append("order-42", "Order", "OrderShipped", {"tracking": "ABC"})
    return store


def test_state_at_folds_payloads_for_types_without_an_aggregate_class(
    store: FakeEventStore,
) -> None:
    assert state_at("order-42", 0, store=store) == {}
    assert state_at("order-42", 1, store=store) == {"user_id": 42, "total": 99.99}
    assert state_at("order-42", 3, store=store) == {
        "user_id": 42,
        "total": 89.99,
        "method": "card",
        "tracking": "ABC",
    }
    assert state_at("order-42", 99, store=store) == state_at("order-42", 3, store=store)


def test_change_at_lists_added_removed_and_changed_keys(store: FakeEventStore) -> None:
    change = change_at("order-42", 2, store=store)
    assert change == Change(
        before={"user_id": 42, "total": 99.99},
        after={"user_id": 42, "total": 89.99, "method": "card"},
        added={"method": "card"},
        removed={},
        changed={"total": (99.99, 89.99)},
    )
    assert change_at("order-42", 1, store=store).added == {"user_id": 42, "total": 99.99}


def test_state_of_a_registered_aggregate_comes_from_its_events() -> None:
    store = FakeEventStore()
    todo = Todo.create("t1", Todo.Created, label="a")
    todo.trigger(Todo.Completed)
    AggregateRepository(Todo, store).save(todo)
    assert state_at("t1", 1, store=store) == {"label": "a", "done": False}
    change = change_at("t1", 2, store=store)
    assert (change.changed, change.removed) == ({"done": (False, True)}, {})


def test_change_at_reads_the_stream_once(store: FakeEventStore, monkeypatch) -> None:
    calls: list[tuple[str, int, int | None]] = []
    load = store.backend.load

    def counting_load(aggregate_id: str, *, after_seq: int = 0, limit: int | None = None):
        calls.append((aggregate_id, after_seq, limit))
        return load(aggregate_id, after_seq=after_seq, limit=limit)

    monkeypatch.setattr(store.backend, "load", counting_load)
    assert change_at("order-42", 2, store=store).added == {"method": "card"}
    assert calls == [("order-42", 0, 2)]


def test_unknown_aggregate_is_empty_not_an_error(store: FakeEventStore) -> None:
    assert state_at("nope", 3, store=store) == {}
    assert change_at("nope", 1, store=store) == Change(before={}, after={})
    assert replay_log("nope", store=store) == ""


def test_replay_log(store: FakeEventStore) -> None:
    assert replay_log("order-42", store=store) == (
        "seq=1 type=OrderCreated\nseq=2 type=OrderPaid\nseq=3 type=OrderShipped"
    )


@pytest.mark.django_db
def test_helpers_use_the_configured_store_by_default(settings) -> None:
    settings.TOOLKIT = {"patterns": {"event_store_backend": "django"}}
    store = EventStore()
    assert isinstance(store.backend, DjangoEventStoreBackend)
    store.append("order-1", "Order", "OrderCreated", {"total": 1})
    store.append("order-1", "Order", "OrderPaid", {"total": 2})
    assert state_at("order-1", 2) == {"total": 2}
    assert change_at("order-1", 2).changed == {"total": (1, 2)}
    assert replay_log("order-1") == "seq=1 type=OrderCreated\nseq=2 type=OrderPaid"


def test_memory_backend_from_settings_is_shared_per_process(settings) -> None:
    settings.TOOLKIT = {"patterns": {"event_store_backend": "memory"}}
    EventStore().append("m-1", "Order", "OrderCreated", {})
    assert [e.event_type for e in EventStore().load("m-1")] == ["OrderCreated"]
