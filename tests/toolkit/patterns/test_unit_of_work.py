"""UnitOfWork: one transaction, events after commit, dropped on rollback, savepoints, async."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connections, transaction
from django.db.transaction import TransactionManagementError

from tests.testapp.models import Invoice, Ticket
from toolkit.patterns.exceptions import EventDispatchError
from toolkit.patterns.observer import EventBus, default_bus
from toolkit.patterns.state_machine import StateMachine, Transition
from toolkit.patterns.unit_of_work import UnitOfWork

pytestmark = pytest.mark.django_db(transaction=True)


class UowTicketMachine(StateMachine):
    class Meta:
        name = "test-uow-tickets"
        states = ["open", "closed"]
        state_field = "status"
        audit = False
        transitions = [Transition("shut", source="open", target="closed")]


@pytest.fixture
def bus() -> EventBus:
    return EventBus(backend="default")


@pytest.fixture
def seen(bus: EventBus) -> list:
    received: list = []
    bus.subscribe("*", lambda payload: received.append(payload))
    return received


def test_events_are_dispatched_after_commit(bus: EventBus, seen: list) -> None:
    uow = UnitOfWork()
    with uow:
        invoice = Invoice.objects.create(number="A")
        bus.emit("invoice.created", {"id": invoice.pk})
        assert seen == []
    assert seen == [{"id": invoice.pk}]
    assert Invoice.objects.count() == 1


def test_rollback_drops_events_and_writes(bus: EventBus, seen: list) -> None:
    uow = UnitOfWork()
    with pytest.raises(ValueError, match="something went wrong"), uow:
        Invoice.objects.create(number="B")
        bus.emit("invoice.created", {"n": "B"})
        raise ValueError("something went wrong")
    assert seen == []
    assert Invoice.objects.count() == 0


def test_events_of_every_bus_are_held_back(bus: EventBus, seen: list) -> None:
    other = EventBus(backend="default")
    other_seen: list = []
    other.subscribe("x", other_seen.append)
    with UnitOfWork():
        other.emit("x", 1)
        bus.emit("y", 2)
        assert (other_seen, seen) == ([], [])
    assert (other_seen, seen) == ([1], [2])


def test_nested_failure_rolls_back_only_the_inner_block(bus: EventBus, seen: list) -> None:
    uow = UnitOfWork()
    with uow:
        Invoice.objects.create(number="outer")
        bus.emit("outer.before", 1)
        try:
            with uow:  # inner savepoint
                Invoice.objects.create(number="inner")
                bus.emit("inner", 2)
                raise ValueError()
        except ValueError:
            pass
        bus.emit("outer.after", 3)
    assert seen == [1, 3]
    assert list(Invoice.objects.values_list("number", flat=True)) == ["outer"]


def test_nested_success_keeps_event_order(bus: EventBus, seen: list) -> None:
    uow = UnitOfWork()
    with uow:
        bus.emit("a", 1)
        with uow:
            bus.emit("b", 2)
        assert seen == []
        bus.emit("c", 3)
    assert seen == [1, 2, 3]


def test_outer_failure_drops_the_events_of_inner_blocks_that_succeeded(
    bus: EventBus, seen: list
) -> None:
    uow = UnitOfWork()
    with pytest.raises(ValueError, match="outer fails"), uow:
        with uow:
            Invoice.objects.create(number="inner")
            bus.emit("inner.done", 1)
        raise ValueError("outer fails")
    assert seen == []
    assert Invoice.objects.count() == 0


def test_seed_nested_block_raising_rolls_back_both_unless_the_outer_catches(
    bus: EventBus, seen: list
) -> None:
    """As in the seed, the inner ``raise`` rolls back the inner savepoint; the exception then
    leaves the outer block too (and rolls it back) unless code in the outer block catches it."""
    uow = UnitOfWork()
    with pytest.raises(ValueError), uow:
        Invoice.objects.create(number="outer")
        with uow:  # inner savepoint
            Invoice.objects.create(number="inner")
            raise ValueError()
    assert Invoice.objects.count() == 0
    assert seen == []


@pytest.mark.postgres
def test_one_instance_shared_by_threads_keeps_their_blocks_apart(bus: EventBus, seen: list) -> None:
    from tests.services import require_postgres_db

    # Two open transactions at once: SQLite's shared in-memory test database locks instead.
    require_postgres_db()
    uow = UnitOfWork()
    both_inside = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(name: str, fail: bool) -> None:
        try:
            with uow:
                bus.emit(name, name)
                both_inside.wait(10)
                if fail:
                    raise ValueError(name)
        except ValueError:
            pass
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=work, args=("kept", False)),
        threading.Thread(target=work, args=("dropped", True)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert seen == ["kept"]


def test_instance_is_reusable(bus: EventBus, seen: list) -> None:
    uow = UnitOfWork()
    for n in range(3):
        with uow:
            bus.emit("n", n)
    assert seen == [0, 1, 2]


def test_inside_a_plain_atomic_events_wait_for_its_commit(bus: EventBus, seen: list) -> None:
    with transaction.atomic():
        with UnitOfWork():
            bus.emit("e", 1)
        assert seen == []
    assert seen == [1]


def test_outer_atomic_rollback_drops_events(bus: EventBus, seen: list) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        with UnitOfWork():
            bus.emit("e", 1)
        raise RuntimeError
    assert seen == []


def test_state_machine_event_goes_out_after_the_unit_of_work_commits() -> None:
    seen: list = []
    default_bus.subscribe("ticket.shut", seen.append)
    try:
        ticket = Ticket.objects.create()
        with UnitOfWork():
            UowTicketMachine().trigger(ticket, "shut")
            assert seen == []
        assert [p["transition"] for p in seen] == ["shut"]
        with pytest.raises(ValueError), UnitOfWork():
            other = Ticket.objects.create()
            UowTicketMachine().trigger(other, "shut")
            raise ValueError
        assert len(seen) == 1
    finally:
        default_bus.off("ticket.shut")


def test_handler_errors_after_commit_raise_but_data_is_committed(bus: EventBus) -> None:
    def broken(payload):
        raise RuntimeError("mailer down")

    bus.subscribe("invoice.created", broken)
    with pytest.raises(EventDispatchError) as info, UnitOfWork():
        Invoice.objects.create(number="C")
        bus.emit("invoice.created", {})
    assert [str(e) for e in info.value.exceptions] == ["mailer down"]
    assert Invoice.objects.count() == 1


def test_async_with_commits_and_dispatches(bus: EventBus, seen: list) -> None:
    uow = UnitOfWork()

    async def main() -> None:
        async with uow:
            invoice = await Invoice.objects.acreate(number="ASYNC")
            await bus.aemit("invoice.created", {"id": invoice.pk})
            bus.emit("invoice.sync", {"id": invoice.pk})
            assert seen == []
            # the ORM's async calls share the unit of work's connection and transaction
            assert await sync_to_async(lambda: transaction.get_connection().in_atomic_block)()

    async_to_sync(main)()
    pk = Invoice.objects.get().pk
    assert seen == [{"id": pk}, {"id": pk}]


def test_async_with_rolls_back_on_error(bus: EventBus, seen: list) -> None:
    uow = UnitOfWork()

    async def main() -> None:
        async with uow:
            await Invoice.objects.acreate(number="GONE")
            await bus.aemit("invoice.created", {})
            async with uow:
                await Invoice.objects.acreate(number="INNER")
            raise ValueError("async failure")

    with pytest.raises(ValueError, match="async failure"):
        async_to_sync(main)()
    assert seen == []
    assert Invoice.objects.count() == 0


def test_async_with_gathers_handler_errors_after_commit(bus: EventBus) -> None:
    async def broken(payload):
        raise RuntimeError("async mailer down")

    bus.subscribe("invoice.created", broken)

    async def main() -> None:
        async with UnitOfWork():
            await Invoice.objects.acreate(number="D")
            await bus.aemit("invoice.created", {})

    with pytest.raises(EventDispatchError) as info:
        async_to_sync(main)()
    assert info.value.event == "invoice.created"
    assert [str(e) for e in info.value.exceptions] == ["async mailer down"]
    assert Invoice.objects.count() == 1


def test_interleaved_async_blocks_of_concurrent_tasks_are_refused(
    bus: EventBus, seen: list
) -> None:
    """Two tasks of one request share the connection: the second block must not silently
    become a savepoint of the first one's transaction."""
    uow = UnitOfWork()

    async def main() -> list:
        first_open = asyncio.Event()
        second_done = asyncio.Event()

        async def first() -> None:
            async with uow:
                await Invoice.objects.acreate(number="FIRST")
                await bus.aemit("first", 1)
                first_open.set()
                await second_done.wait()

        async def second() -> None:
            await first_open.wait()
            try:
                async with uow:
                    await Invoice.objects.acreate(number="SECOND")
            finally:
                second_done.set()

        return await asyncio.gather(first(), second(), return_exceptions=True)

    first_result, second_result = async_to_sync(main)()
    assert first_result is None
    assert isinstance(second_result, TransactionManagementError)
    assert str(second_result) == (
        "A UnitOfWork on database 'default' is already open in another task or context "
        "sharing this connection; concurrent units of work would share one transaction. "
        "Run them one after the other, or each in its own asgiref.sync.ThreadSensitiveContext."
    )
    assert list(Invoice.objects.values_list("number", flat=True)) == ["FIRST"]
    assert seen == [1]


def test_sync_code_called_from_an_async_block_nests_into_it(bus: EventBus, seen: list) -> None:
    uow = UnitOfWork()

    def sync_part() -> None:
        with uow:  # the same context (sync_to_async carries it): a savepoint
            Invoice.objects.create(number="SYNC")
            bus.emit("sync", 2)

    async def main() -> None:
        async with uow:
            await Invoice.objects.acreate(number="ASYNC")
            await sync_to_async(sync_part)()
            assert seen == []

    async_to_sync(main)()
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["ASYNC", "SYNC"]
    assert seen == [2]


def test_on_commit_callback_may_open_its_own_unit_of_work(bus: EventBus, seen: list) -> None:
    def after_commit() -> None:
        with UnitOfWork():
            Invoice.objects.create(number="AFTER")
            bus.emit("after", 2)

    with UnitOfWork():
        Invoice.objects.create(number="MAIN")
        transaction.on_commit(after_commit)
        bus.emit("main", 1)
    assert sorted(Invoice.objects.values_list("number", flat=True)) == ["AFTER", "MAIN"]
    assert seen == [1, 2]


def test_using_alias_is_kept() -> None:
    uow = UnitOfWork(using="default")
    with uow:
        Invoice.objects.create()
    assert uow.using == "default"
    assert Invoice.objects.count() == 1


def test_docs_page_examples_run() -> None:
    from tests.toolkit.patterns.docs_examples import run_page

    namespace = run_page("unit_of_work.md")
    assert len(namespace["sent"]) == 2
