"""The pure core imports and works with Django absent.

A subprocess installs a meta-path finder that refuses every ``django`` import (as if Django
were not installed), then uses each core pattern once: a state machine, the event bus, a
specification, a strategy, ``lazy``, the DDD aggregates and broker, a story, the memory
event store, and the aggregate and repository core under them (``toolkit.core.aggregate``,
``toolkit.core.repository``). Any module on those paths that still imports Django fails the
test with the importing module named in the traceback.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK_DJANGO = textwrap.dedent(
    """
    import importlib.abc
    import sys

    class BlockDjango(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "django" or name.startswith("django."):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, BlockDjango())
    """
)

USE_THE_CORE = textwrap.dedent(
    """
    import asyncio
    from dataclasses import dataclass

    import toolkit.patterns
    from toolkit.patterns import (
        EventBus, Specification, StateMachine, Strategy, Transition, lazy,
    )
    from toolkit.ddd import Aggregate, AggregateEvent, DomainEvent, EventBroker, ValueObject
    from toolkit.stories import I, State, Story
    from toolkit.eventsourcing import Aggregate as ESAggregate
    from toolkit.eventsourcing.backends.memory import MemoryEventStoreBackend
    from toolkit.eventsourcing.event_store import EventStore
    from toolkit.eventsourcing.repository import AggregateRepository
    from toolkit.testing import FakeEventStore, InMemoryRepository

    done = []

    class Door:
        state = "closed"

    class DoorMachine(StateMachine):
        class Meta:
            name = "pure-core-door"
            states = ["closed", "open"]
            transitions = [Transition("open", "closed", "open")]

    door = Door()
    DoorMachine().trigger(door, "open")
    assert door.state == "open"
    from toolkit.core.compat import ImproperlyConfigured
    try:
        class Empty(StateMachine):
            class Meta:
                states = []
    except ImproperlyConfigured as exc:  # the stand-in, since Django is not there
        assert str(exc) == "Empty.Meta.states is empty", exc
    else:
        raise AssertionError("an empty Meta.states was accepted")
    done.append("StateMachine")

    bus = EventBus()
    seen = []
    bus.on("door.*")(seen.append)

    @bus.on("door.opened")
    async def later(payload):
        seen.append(("async", payload))

    bus.emit("door.opened", 1)
    asyncio.run(bus.aemit("door.closed", 2))
    assert seen == [1, ("async", 1), 2], seen
    done.append("EventBus")

    class IsOpen(Specification):
        def is_satisfied_by(self, candidate):
            return candidate.state == "open"

    assert IsOpen().is_satisfied_by(door) and not (~IsOpen()).is_satisfied_by(door)
    done.append("Specification")

    class Greeting(Strategy):
        def greet(self):
            raise NotImplementedError

    @Greeting.register("hello")
    class Hello(Greeting):
        def greet(self):
            return "hello"

    assert Greeting.resolve("hello")().greet() == "hello"
    done.append("Strategy")

    calls = []

    class Report:
        @lazy
        def total(self):
            calls.append(1)
            return 42

    report = Report()
    assert report.total == report.total == 42 and calls == [1]
    done.append("lazy")

    class Line(ValueObject):
        sku: str
        qty: int

    class Opened(DomainEvent):
        reference: str

    class Batch(Aggregate):
        reference: str

        def open(self):
            self.add_event(Opened(reference=self.reference))

    broker = EventBroker()
    received = []
    broker.handle(Opened)(received.append)
    batch = Batch(reference="b1")
    batch.open()
    for event in batch.collect_events():
        broker(event)
    assert [e.reference for e in received] == ["b1"]
    assert Line(sku="LAMP", qty=1) == Line(sku="LAMP", qty=1)
    done.append("ddd")

    @dataclass(frozen=True, slots=True)
    class Checkout(Story):
        I.reserve
        I.charge

        def reserve(self, state):
            state.steps = ["reserve"]

        def charge(self, state):
            state.steps.append("charge")

    state = State()
    Checkout()(state)
    assert state.steps == ["reserve", "charge"]
    done.append("Story")

    store = EventStore(MemoryEventStoreBackend())
    store.append("order-1", "Order", "Created", {"total": 10})
    store.append("order-1", "Order", "Paid", {}, expected_seq=1)
    assert store.replay_log("order-1") == "seq=1 type=Created\\nseq=2 type=Paid"
    assert [e.event_type for e in FakeEventStore().load("none")] == []

    class Account(ESAggregate):
        class Opened(ESAggregate.Event):
            def apply(self, account):
                account.balance = 0

        class Deposited(ESAggregate.Event):
            def apply(self, account):
                account.balance += self.amount

    repo = AggregateRepository(Account, store=store)
    account = Account.create("acc-1", Account.Opened)
    account.trigger(Account.Deposited, amount=5)
    repo.save(account)
    assert repo.get("acc-1").balance == 5
    done.append("EventStore")

    from toolkit.core.aggregate import EventRecorder, VersionedEventRecorder
    from toolkit.core.repository import Repository as CoreRepository
    from toolkit.ddd import Repository as DDDRepository
    from toolkit.patterns import Repository as PatternsRepository

    assert isinstance(batch, EventRecorder) and isinstance(account, VersionedEventRecorder)
    assert (account.version, account.persisted_version) == (2, 2)
    account.trigger(Account.Deposited, amount=1)
    assert (account.version, account.persisted_version) == (3, 2)
    for face in (PatternsRepository, DDDRepository, AggregateRepository):
        assert issubclass(face, CoreRepository), face
    assert repo.find("acc-1").balance == 5 and "acc-1" in repo and "nobody" not in repo
    assert repo.add(account)[0].sequence == 3
    memory = InMemoryRepository()
    assert memory.find(1) is None and 1 not in memory
    done.append("core")

    assert not any(m == "django" or m.startswith("django.") for m in sys.modules)
    print(" ".join(done))
    """
)


def test_core_imports_and_works_with_django_blocked() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_DJANGO + USE_THE_CORE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "StateMachine",
        "EventBus",
        "Specification",
        "Strategy",
        "lazy",
        "ddd",
        "Story",
        "EventStore",
        "core",
    ]


def test_importing_toolkit_patterns_loads_no_django_adapter() -> None:
    code = textwrap.dedent(
        """
        import sys
        import toolkit.patterns
        adapters = ["toolkit.patterns.component", "toolkit.patterns.django_repository",
                    "toolkit.patterns.cache", "toolkit.eventsourcing", "toolkit.models"]
        heavy = ["django.conf", "django.db", "django.http", "django.views", "django.apps"]
        print(sorted(m for m in adapters if m in sys.modules),
              sorted(m for m in heavy if m in sys.modules))
        from toolkit.patterns import DjangoRepository, EventStore
        print(DjangoRepository.__module__, EventStore.__module__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.splitlines() == [
        "[] []",
        "toolkit.patterns.django_repository toolkit.eventsourcing.event_store",
    ]
