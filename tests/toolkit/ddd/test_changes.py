"""ChangesHandler + Repository inside a UnitOfWork: persist, dispatch after commit, append
event-sourced aggregates with the expected sequence."""

from __future__ import annotations

from typing import Any

from django.test import TestCase

from toolkit.ddd import Aggregate, AggregateEvent, ChangesHandler, EventBroker, Repository
from toolkit.eventsourcing import Aggregate as EventSourcedAggregate
from toolkit.eventsourcing.backends.memory import MemoryEventStoreBackend
from toolkit.patterns.event_store import EventStore
from toolkit.patterns.exceptions import ConcurrencyConflict, EventDispatchError, NotFound
from toolkit.patterns.unit_of_work import UnitOfWork


class Account(Aggregate):
    account_id: str
    balance: int = 0

    class Deposited(AggregateEvent):
        amount: int

    def deposit(self, amount: int) -> None:
        self.balance += amount
        self.add_event(self.Deposited(amount=amount))


class Ledger(Aggregate):
    """A dddkit-style aggregate that is also event-sourced (EventSourced protocol)."""

    aggregate_id: str
    persisted_sequence: int = 0

    class Noted(AggregateEvent):
        text: str


class Wallet(EventSourcedAggregate):
    class Opened(EventSourcedAggregate.Event):
        pass

    class Credited(EventSourcedAggregate.Event):
        def apply(self, wallet: Any) -> None:
            wallet.total = getattr(wallet, "total", 0) + self.data["amount"]


class AccountRepository(Repository[Account, str]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: dict[str, int] = {}
        self.fail_next = False

    def get(self, aggregate_id: str) -> Account:
        if aggregate_id not in self.rows:
            raise NotFound("Account", aggregate_id)
        return Account(account_id=aggregate_id, balance=self.rows[aggregate_id])

    def persist(self, aggregate: Account) -> None:
        if self.fail_next:
            raise RuntimeError("disk full")
        self.rows[aggregate.account_id] = aggregate.balance


def make() -> tuple[list[Any], AccountRepository]:
    broker = EventBroker()
    received: list[Any] = []
    broker.subscribe(Account.Deposited, received.append)
    return received, AccountRepository(changes_handler=ChangesHandler(broker))


class ChangesHandlerTests(TestCase):
    def test_save_persists_now_and_dispatches_after_commit(self) -> None:
        received, repo = make()
        account = Account(account_id="a1")
        account.deposit(10)
        with self.captureOnCommitCallbacks(execute=True) as callbacks, UnitOfWork():
            repo.save(account)
            assert repo.rows == {"a1": 10}
            assert received == []  # not before the commit
        assert len(callbacks) == 1
        assert received == [Account.Deposited(amount=10)]
        assert account.pending_events == []

    def test_rollback_drops_the_events(self) -> None:
        received, repo = make()
        account = Account(account_id="a1")
        account.deposit(10)
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            try:
                with UnitOfWork():
                    repo.save(account)
                    raise ValueError("abort")
            except ValueError:
                pass
        assert callbacks == []
        assert received == []

    def test_rolled_back_savepoint_drops_only_its_events(self) -> None:
        received, repo = make()
        kept, dropped = Account(account_id="a1"), Account(account_id="a2")
        kept.deposit(1)
        dropped.deposit(2)
        with self.captureOnCommitCallbacks(execute=True), UnitOfWork():
            repo.save(kept)
            try:
                with UnitOfWork():
                    repo.save(dropped)
                    raise ValueError("inner")
            except ValueError:
                pass
        assert received == [Account.Deposited(amount=1)]

    def test_failed_persist_keeps_events_pending(self) -> None:
        received, repo = make()
        repo.fail_next = True
        account = Account(account_id="a1")
        account.deposit(5)
        with self.assertRaises(RuntimeError):
            repo.save(account)
        assert account.pending_events == [Account.Deposited(amount=5)]
        assert received == []

    def test_repository_without_handler_leaves_events_pending(self) -> None:
        repo = AccountRepository()
        account = Account(account_id="a1")
        account.deposit(5)
        assert repo.save(account) == []
        assert repo.rows == {"a1": 5}
        assert len(account.pending_events) == 1

    def test_event_sourced_aggregate_is_appended_with_expected_sequence(self) -> None:
        store = EventStore(MemoryEventStoreBackend())
        broker = EventBroker()
        received: list[Any] = []
        broker.subscribe(Wallet.Credited, received.append)
        changes = ChangesHandler(broker, event_store=store)
        wallet = Wallet.create("w1", Wallet.Opened)
        wallet.trigger(Wallet.Credited, amount=5)
        with self.captureOnCommitCallbacks(execute=True), UnitOfWork():
            changes.save(wallet)
        assert [(e.sequence, e.event_type, e.payload) for e in store.load("w1")] == [
            (1, "Wallet.Opened", {}),
            (2, "Wallet.Credited", {"amount": 5}),
        ]
        assert received == [Wallet.Credited(amount=5)]

        stale = Wallet("w1")  # loaded before the events above: version 0
        stale.trigger(Wallet.Credited, amount=1)
        with self.assertRaises(ConcurrencyConflict) as ctx:
            changes.save(stale)
        assert (ctx.exception.expected, ctx.exception.actual) == (0, 2)
        assert len(store.load("w1")) == 2

    def test_event_sourced_aggregate_is_saved_as_its_repository_saves_it(self) -> None:
        # One save for event-sourced aggregates (append_pending): the changes handler takes
        # the snapshots AggregateRepository takes, and the stream ends identical.
        from toolkit.eventsourcing import AggregateRepository

        class Purse(Wallet):
            snapshot_every = 2

        def fill(purse_id: str) -> Purse:
            purse = Purse.create(purse_id, Wallet.Opened)
            purse.trigger(Wallet.Credited, amount=3)
            purse.trigger(Wallet.Credited, amount=4)
            return purse

        by_handler = EventStore(MemoryEventStoreBackend())
        ChangesHandler(event_store=by_handler).save(fill("p1"))
        by_repository = EventStore(MemoryEventStoreBackend())
        AggregateRepository(Purse, store=by_repository).save(fill("p1"))
        for store in (by_handler, by_repository):
            snapshot = store.load_snapshot("p1")
            assert snapshot is not None and (snapshot.sequence, snapshot.state) == (
                3,
                {"total": 7},
            )
        assert [(e.sequence, e.event_type, e.payload) for e in by_handler.load("p1")] == [
            (e.sequence, e.event_type, e.payload) for e in by_repository.load("p1")
        ]

    def test_django_store_append_rolls_back_with_the_unit_of_work(self) -> None:
        from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend

        store = EventStore(DjangoEventStoreBackend())
        broker = EventBroker()
        received: list[Any] = []
        broker.subscribe(Wallet.Credited, received.append)
        changes = ChangesHandler(broker, event_store=store)
        wallet = Wallet.create("w-django", Wallet.Opened)
        wallet.trigger(Wallet.Credited, amount=5)
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            try:
                with UnitOfWork():
                    changes.save(wallet)
                    assert len(store.load("w-django")) == 2  # written in the transaction
                    raise ValueError("abort")
            except ValueError:
                pass
        assert (store.load("w-django"), callbacks, received) == ([], [], [])

        kept = Wallet.create("w-django", Wallet.Opened)
        kept.trigger(Wallet.Credited, amount=7)
        with self.captureOnCommitCallbacks(execute=True), UnitOfWork():
            changes.save(kept)
        assert [(e.sequence, e.payload) for e in store.load("w-django")] == [
            (1, {}),
            (2, {"amount": 7}),
        ]
        assert received == [Wallet.Credited(amount=7)]

    def test_protocol_aggregate_is_appended_and_its_sequence_advances(self) -> None:
        store = EventStore(MemoryEventStoreBackend())
        changes = ChangesHandler(event_store=store)
        ledger = Ledger(aggregate_id="l1")
        ledger.add_event(Ledger.Noted(text="hello"))
        ledger.add_event(Ledger.Noted(text="world"))
        changes.save(ledger)
        assert ledger.persisted_sequence == 2
        events = store.load("l1")
        assert [(e.sequence, e.event_type, e.payload["text"]) for e in events] == [
            (1, "Noted", "hello"),
            (2, "Noted", "world"),
        ]


class PublishErrorTests(TestCase):
    def test_a_failing_handler_does_not_stop_later_events(self) -> None:
        broker = EventBroker()
        received: list[int] = []

        @broker.handle(Account.Deposited)
        def record(event: Account.Deposited) -> None:
            if event.amount == 1:
                raise ValueError("bad amount")
            received.append(event.amount)

        repo = AccountRepository(changes_handler=ChangesHandler(broker))
        account = Account(account_id="a1")
        account.deposit(1)
        account.deposit(2)
        with (
            self.assertRaises(EventDispatchError) as ctx,
            self.captureOnCommitCallbacks(execute=True),
            UnitOfWork(),
        ):
            repo.save(account)
        assert received == [2]
        assert repo.rows == {"a1": 3}
        assert [type(e) for e in ctx.exception.exceptions] == [ValueError]
        assert ctx.exception.event == "Account.Deposited"
