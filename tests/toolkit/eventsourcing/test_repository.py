"""AggregateRepository: get, time travel, save with the expected sequence, snapshots."""

from __future__ import annotations

import pytest

from tests.toolkit.eventsourcing.test_aggregate import Todo
from toolkit.eventsourcing import AggregateRepository
from toolkit.patterns.exceptions import ConcurrencyConflict, ValidationError
from toolkit.testing.event_store import FakeEventStore


@pytest.fixture
def store() -> FakeEventStore:
    return FakeEventStore()


@pytest.fixture
def repo(store: FakeEventStore) -> AggregateRepository[Todo]:
    return AggregateRepository(Todo, store)


def test_save_appends_pending_events_and_get_rebuilds(
    repo: AggregateRepository[Todo], store: FakeEventStore
) -> None:
    todo = Todo.create("t1", Todo.Created, label="write docs")
    todo.trigger(Todo.Completed)
    stored = repo.save(todo)
    assert [e.event_type for e in stored] == ["Todo.Created", "TodoCompleted"]
    assert todo.pending_events == []
    loaded = repo.get("t1")
    assert loaded is not None
    assert (loaded.label, loaded.done, loaded.version) == ("write docs", True, 2)
    assert store.load("t1")[0].aggregate_type == "Todo"


def test_unknown_id_gets_none(repo: AggregateRepository[Todo]) -> None:
    assert repo.get("missing") is None
    assert repo.get("missing", version=3) is None


def test_get_with_version_travels_in_time(repo: AggregateRepository[Todo]) -> None:
    todo = Todo.create("t1", Todo.Created, label="a")
    for label in ("b", "c", "d", "e"):
        todo.trigger(Todo.Relabelled, label=label)
    repo.save(todo)
    assert [repo.get("t1", version=n).label for n in (1, 2, 4, 5)] == ["a", "b", "d", "e"]  # type: ignore[union-attr]
    assert repo.get("t1", version=2).version == 2  # type: ignore[union-attr]
    assert repo.get("t1", version=0) is None
    with pytest.raises(ValidationError) as info:
        repo.get("t1", version=-1)
    assert info.value.message == "version must be None or an integer ≥ 0, not -1"


def test_concurrent_save_raises_conflict_and_writes_nothing(
    repo: AggregateRepository[Todo], store: FakeEventStore
) -> None:
    repo.save(Todo.create("t1", Todo.Created, label="a"))
    first = repo.get("t1")
    second = repo.get("t1")
    assert first is not None and second is not None
    first.trigger(Todo.Relabelled, label="first")
    repo.save(first)
    second.trigger(Todo.Relabelled, label="second")
    with pytest.raises(ConcurrencyConflict) as info:
        repo.save(second)
    assert (info.value.expected, info.value.actual) == (1, 2)
    assert repo.get("t1").label == "first"  # type: ignore[union-attr]
    assert store.stream_head("t1") == 2


def test_snapshots_are_taken_every_n_events_and_used_on_load(
    repo: AggregateRepository[Todo], store: FakeEventStore
) -> None:
    todo = Todo.create("t1", Todo.Created, label="a")
    todo.trigger(Todo.Relabelled, label="b")
    repo.save(todo)
    assert store.load_snapshot("t1") is None
    todo.trigger(Todo.Relabelled, label="c")
    todo.trigger(Todo.Relabelled, label="d")
    repo.save(todo)  # version 2 → 4 crosses 3
    snapshot = store.load_snapshot("t1")
    assert snapshot is not None
    assert (snapshot.sequence, snapshot.state, snapshot.aggregate_type) == (
        4,
        {"label": "d", "done": False},
        "Todo",
    )
    # Loading uses the snapshot: prove it by making the snapshot differ from the events.
    store.save_snapshot("t1", {"label": "from-snapshot", "done": False}, 4)
    todo.trigger(Todo.Completed)
    repo.save(todo)
    loaded = repo.get("t1")
    assert loaded is not None
    assert (loaded.label, loaded.done, loaded.version) == ("from-snapshot", True, 5)
    assert repo.get("t1", version=3).label == "c"  # type: ignore[union-attr]


def test_saving_without_pending_events_does_nothing(repo: AggregateRepository[Todo]) -> None:
    assert repo.save(Todo("t1")) == []
