"""MockObserver: records deliveries, runs handlers, clear assertion messages."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from toolkit.patterns.unit_of_work import UnitOfWork
from toolkit.testing import ANY, MockObserver


def test_emit_is_recorded_and_asserted() -> None:
    bus = MockObserver()
    bus.emit("order.paid", {"id": 42})
    bus.assert_emitted("order.paid", {"id": 42})
    bus.assert_emitted("order.paid")
    bus.assert_emitted("order.paid", ANY, times=1)
    bus.assert_not_emitted("order.shipped")
    assert bus.events("order.paid") == [{"id": 42}]


def test_failed_assertion_lists_what_was_emitted() -> None:
    bus = MockObserver()
    bus.emit("order.paid", {"id": 1})
    with pytest.raises(AssertionError) as excinfo:
        bus.assert_emitted("order.paid", {"id": 2})
    assert str(excinfo.value) == (
        "Expected order.paid with {'id': 2} to be emitted; emitted: order.paid: {'id': 1}"
    )
    with pytest.raises(AssertionError, match=r"1 time\(s\), got 2"):
        bus.emit("order.paid", {"id": 1})
        bus.assert_emitted("order.paid", {"id": 1}, times=1)
    with pytest.raises(AssertionError, match=r"Expected order\.paid not to be emitted"):
        bus.assert_not_emitted("order.paid")


def test_handlers_still_run() -> None:
    bus = MockObserver()
    seen = []
    bus.on("order.*")(seen.append)
    bus.emit("order.paid", 1)
    async_to_sync(bus.aemit)("order.shipped", 2)
    assert seen == [1, 2]
    assert bus.events() == [("order.paid", 1), ("order.shipped", 2)]
    bus.reset()
    assert bus.events() == []


@pytest.mark.django_db(transaction=True)
def test_rolled_back_unit_of_work_records_nothing() -> None:
    bus = MockObserver()
    with pytest.raises(ValueError), UnitOfWork():
        bus.emit("order.created", {"id": 1})
        raise ValueError("boom")
    bus.assert_not_emitted("order.created")
    with UnitOfWork():
        bus.emit("order.created", {"id": 2})
        assert bus.events() == []
    bus.assert_emitted("order.created", {"id": 2})
