"""dmr-toolkit 0.1.0's published spellings (read from its package, not only its README).

The README examples run in ``test_seed_readme.py``; these tests cover the names, keywords and
behaviours of the published package that its README does not show.
"""

from __future__ import annotations

import pytest

from toolkit.patterns import (
    ConcurrencyConflict,
    EventBus,
    GuardFailed,
    InvalidTransition,
    NotFound,
    StrategyNotFound,
    UnitOfWork,
)
from toolkit.testing import FakeEventStore, InMemoryRepository, MockObserver


def test_errors_take_the_published_keywords_and_keep_a_context() -> None:
    error = InvalidTransition(current_state="cancelled", transition="ship", model="Order")
    assert (error.current_state, error.state, error.model) == ("cancelled", "cancelled", "Order")
    assert error.context == {"transition": "ship", "state": "cancelled", "allowed": ()}
    guard = GuardFailed(guard="is_paid", transition="ship", reason="Order not paid")
    assert guard.reason == guard.explanation == "Order not paid"
    assert str(guard) == "Guard 'is_paid' blocked transition 'ship': Order not paid"
    conflict = ConcurrencyConflict(aggregate_id="order-1", expected_seq=5, actual_seq=7)
    assert (conflict.expected_seq, conflict.actual_seq) == (5, 7)
    assert conflict.context == {"aggregate_id": "order-1", "expected": 5, "actual": 7}
    missing = StrategyNotFound(name="fast", available=["slow", "balanced"])
    assert str(missing) == "'fast' is not a strategy; available: 'balanced', 'slow'"
    assert NotFound(model="Order", id=999).context == {"model": "Order", "id": 999}


@pytest.mark.django_db(transaction=True)
def test_unit_of_work_takes_the_event_bus_and_registers_repositories() -> None:
    bus = EventBus()
    seen: list[dict[str, object]] = []
    bus.subscribe("entity.added", seen.append)
    repo = InMemoryRepository()
    with UnitOfWork(event_bus=bus) as uow:
        uow.register_repository(repo)
        repo.add(type("Entity", (), {"id": 1})())
        bus.emit("entity.added", {"id": 1})
        assert seen == []  # buffered until commit
    assert seen == [{"id": 1}]
    assert uow.repositories == [repo]
    with pytest.raises(ValueError), UnitOfWork(event_bus=bus):
        bus.emit("entity.added", {"id": 2})
        raise ValueError("rolled back")
    assert seen == [{"id": 1}]  # discarded on rollback


def test_event_bus_handlers_for_and_clear() -> None:
    bus = EventBus()

    def handler(payload: object) -> None: ...

    bus.on("order.*")(handler)
    assert bus.handlers_for("order.paid") == [handler]
    bus.clear()
    assert bus.handlers_for("order.paid") == []


def test_mock_observer_get_emitted_and_clear() -> None:
    mock_bus = MockObserver()
    mock_bus.emit("order.paid", {"id": 42})
    assert mock_bus.get_emitted("order.paid") == [{"id": 42}]
    assert mock_bus.get_emitted("order.shipped") == []
    mock_bus.clear()
    assert mock_bus.get_emitted("order.paid") == []


def test_fake_event_store_reset() -> None:
    store = FakeEventStore()
    store.append("agg-1", "Order", "Created", {})
    store.reset()
    assert store.load("agg-1") == []
