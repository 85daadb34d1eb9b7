"""Every code example of the seed README (``dmr-toolkit``), with only the import root changed.

Each test holds one example as the README writes it (``dmr_toolkit`` → ``toolkit``), after the
stand-ins it refers to (``Order``, ``User``, ``request``, ``email_service``, ...), and then
checks what the README's comments promise. The stand-in models are ``tests.seedapp``'s.
"""

from __future__ import annotations

import io
from abc import abstractmethod
from contextlib import redirect_stdout
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.test.utils import override_settings

from tests.seedapp.models import InventoryItem, Order, User
from toolkit import registry as toolkit_registry
from toolkit.conf import PATTERN_DEFAULTS, validate
from toolkit.models import CommandAuditLog, StateTransitionAudit


def run_async(func):
    """Run one async snippet (the README's ``await`` lines) to completion."""
    return async_to_sync(func)()


@pytest.fixture
def request_with_user(db):
    staff = get_user_model().objects.create_user("seed-reader", password="x")
    request = RequestFactory().get("/")
    request.user = staff
    return request


@pytest.fixture
def restore_machines():
    """The seed's OrderMachine shares its name with the demo's, and the registry refuses a
    second, different class under one name: run the README's project as it is (its own
    machines only), then put the demo's back."""
    saved = dict(toolkit_registry.machines.items())
    toolkit_registry.machines.clear()
    yield
    toolkit_registry.machines.clear()
    for name, machine in saved.items():
        toolkit_registry.machines.register(name, machine)


@pytest.fixture
def locmem_cache():
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "seed-readme",
        }
    }
    with override_settings(CACHES=config):
        from django.core.cache import caches

        caches["default"].clear()
        yield


# -- Quick start ------------------------------------------------------------------------------


def test_quick_start_installed_app_and_settings() -> None:
    INSTALLED_APPS = [
        "toolkit",
    ]
    TOOLKIT = {
        "patterns": {
            "audit": True,  # Enable audit logs for StateMachine + Command
            "cache_backend": "default",  # Django cache alias
            "event_bus": "default",
            "event_store_backend": "django",
            "plugin_group": "toolkit.plugins",
        }
    }
    assert set(INSTALLED_APPS) <= set(settings.INSTALLED_APPS)
    assert validate(TOOLKIT) == []


def test_settings_reference() -> None:
    TOOLKIT = {
        "patterns": {
            # Enable audit logging for StateMachine transitions and Command executions
            # Writes StateTransitionAudit and CommandAuditLog records
            "audit": False,
            # Django cache alias used by @cached and Component.cache_ttl
            "cache_backend": "default",
            # EventBus backend: "default" (in-process) or "celery"
            "event_bus": "default",
            # EventStore backend: "django" (ORM) or "redis" (requires redis extra)
            "event_store_backend": "django",
            # Entry-point group for PluginRegistry.load_entry_points()
            "plugin_group": "toolkit.plugins",
        }
    }
    assert validate(TOOLKIT) == []
    # The reference lists the defaults: a project without the setting gets exactly these.
    assert TOOLKIT["patterns"] == PATTERN_DEFAULTS


# -- Repository -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_repository_example() -> None:
    existing = Order.objects.create(pk=42, user_id=1)

    from toolkit.patterns import DjangoRepository, NotFound, Repository

    # Abstract base — implement your own
    class OrderRepository(Repository[Order, int]):
        def get(self, id: int) -> Order: ...
        def list(self, spec=None) -> list[Order]: ...

        # ... add, update, remove, and async variants

    # Concrete Django-backed implementation
    class DjangoOrderRepository(DjangoRepository[Order, int]):
        model = Order  # binds to Order.objects manager

    repo = DjangoOrderRepository()
    out = io.StringIO()
    with redirect_stdout(out):
        try:
            order = repo.get(42)
        except NotFound:
            print("Order not found")
    orders = repo.list()  # all orders

    async def snippet():
        await repo.aget(42)  # async variant
        await repo.alist()  # async list
        return await repo.aget(42), await repo.alist()

    assert order == existing
    assert out.getvalue() == ""
    assert orders == [existing]
    assert run_async(snippet) == (existing, [existing])
    assert OrderRepository.__abstractmethods__ == frozenset({"add", "update", "remove"})


# -- Specification ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_specification_example() -> None:
    from toolkit.patterns import DjangoRepository

    class DjangoOrderRepository(DjangoRepository[Order, int]):
        model = Order

    repo = DjangoOrderRepository()
    both = Order.objects.create(status="active", tier="premium")
    Order.objects.create(status="active", tier="standard")
    Order.objects.create(status="closed", tier="premium")

    from django.db.models import Q

    from toolkit.patterns import Specification

    class ActiveSpec(Specification):
        def is_satisfied_by(self, entity) -> bool:
            return entity.status == "active"

        def to_query(self) -> Q:
            return Q(status="active")

    class PremiumSpec(Specification):
        def is_satisfied_by(self, entity) -> bool:
            return entity.tier == "premium"

        def to_query(self) -> Q:
            return Q(tier="premium")

    # Compose with operators
    active_premium = ActiveSpec() & PremiumSpec()
    active_or_premium = ActiveSpec() | PremiumSpec()
    not_active = ~ActiveSpec()
    # Use with Repository
    repo.list(active_premium)
    # Serialise / deserialise
    data = active_premium.to_dict()
    restored = Specification.from_dict(data)

    assert repo.list(active_premium) == [both]
    assert len(repo.list(active_or_premium)) == 3
    assert [o.status for o in repo.list(not_active)] == ["closed"]
    assert restored == active_premium
    assert repo.list(restored) == [both]
    import json

    through_json = Specification.from_dict(json.loads(json.dumps(data)))
    assert through_json == active_premium
    assert [through_json.is_satisfied_by(o) for o in Order.objects.order_by("pk")] == [
        True,
        False,
        False,
    ]


# -- State machine ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_state_machine_example(request_with_user, restore_machines) -> None:
    request = request_with_user
    order = Order.objects.create(status="pending", total=10)

    from toolkit.patterns import StateMachine, Transition

    class OrderMachine(StateMachine):
        class Meta:
            states = ["pending", "paid", "shipped", "cancelled"]
            state_field = "status"
            audit = True  # writes StateTransitionAudit records
            transitions = [
                Transition("pay", source="pending", target="paid"),
                Transition("ship", source="paid", target="shipped"),
                Transition(
                    "cancel",
                    source="pending",
                    target="cancelled",
                    guards=[lambda entity, user: entity.can_cancel],
                ),
            ]

    machine = OrderMachine()
    machine.trigger(order, "pay", user=request.user)  # updates order.status → "paid"
    machine.trigger(order, "ship", user=request.user)  # → "shipped"
    # Raises InvalidTransition if source state is wrong
    # Raises GuardFailed if a guard returns False
    out = io.StringIO()
    with redirect_stdout(out):
        print(machine.diagram())  # Mermaid stateDiagram-v2 string

    from toolkit.patterns.exceptions import GuardFailed, InvalidTransition

    order.refresh_from_db()
    assert order.status == "shipped"
    assert StateTransitionAudit.objects.count() == 2
    with pytest.raises(InvalidTransition):
        machine.trigger(order, "pay", user=request.user)
    big = Order.objects.create(status="pending", total=5000)
    with pytest.raises(GuardFailed):
        machine.trigger(big, "cancel", user=request.user)
    assert out.getvalue().startswith("stateDiagram-v2")


# -- Observer / EventBus ----------------------------------------------------------------------


def test_event_bus_example() -> None:
    email_service = SimpleNamespace(
        sent=[], send=lambda to, subject: email_service.sent.append((to, subject))
    )

    class AuditLog:
        def __init__(self) -> None:
            self.rows: list = []

        async def write(self, payload) -> None:
            self.rows.append(payload)

    audit_log = AuditLog()

    from toolkit.patterns import EventBus

    bus = EventBus()

    @bus.on("order.paid")
    def send_receipt(payload):
        email_service.send(payload["email"], "Your receipt")

    @bus.on("order.*")  # wildcard — matches any order.* event
    async def log_order_event(payload):
        await audit_log.write(payload)

    bus.emit("order.paid", {"email": "user@example.com", "amount": 99.99})

    async def snippet():
        await bus.aemit("order.shipped", {"tracking": "ABC123"})

    run_async(snippet)
    assert email_service.sent == [("user@example.com", "Your receipt")]
    assert audit_log.rows == [
        {"email": "user@example.com", "amount": 99.99},
        {"tracking": "ABC123"},
    ]


# -- Plugin registry --------------------------------------------------------------------------


def test_plugin_registry_example() -> None:
    # No database: the registry of the README is an in-memory object.
    from toolkit.patterns import Plugin, PluginRegistry

    # Define the interface
    class Plugin:  # noqa: F811 - the README redefines the interface it documents
        def activate(self): ...
        def deactivate(self): ...

    class MyPlugin(Plugin):
        """A third-party plugin."""

    # Third-party plugin (declared in pyproject.toml entry points)
    # [project.entry-points."toolkit.plugins"]
    # my_plugin = "my_package:MyPlugin"
    registry = PluginRegistry()
    registry.load_entry_points("toolkit.plugins")  # auto-discovers installed plugins
    # Manual management
    registry.register("my_plugin", MyPlugin)
    plugin_class = registry.get("my_plugin")
    out = io.StringIO()
    with redirect_stdout(out):
        for meta in registry.list_plugins():
            print(meta.name, meta.version, meta.status)
    registry.unregister("my_plugin")

    assert plugin_class is MyPlugin
    assert out.getvalue() == "my_plugin None active\n"
    assert registry.names() == []


# -- Lazy loader -----------------------------------------------------------------------------


def test_lazy_example(monkeypatch) -> None:
    built: list[str] = []

    class ExpensiveAPIClient:
        def __init__(self) -> None:
            built.append("client")

    def load_remote_config() -> dict:
        built.append("config")
        return {"flag": True}

    from toolkit.patterns import lazy

    class MyService:
        # Factory called once on first access; result cached on the instance
        client = lazy(lambda: ExpensiveAPIClient())
        # With TTL — re-initialises after 60 seconds
        config = lazy(lambda: load_remote_config(), ttl=60.0)

    svc = MyService()
    svc.client  # factory called here
    svc.client  # returns cached value — factory NOT called again
    assert built == ["client"]
    # Clear cache on demand
    MyService.client.reset(svc)
    svc.client  # factory called again
    assert built == ["client", "client"]
    assert svc.config == {"flag": True}
    assert svc.config == {"flag": True}
    assert built == ["client", "client", "config"]
    # With TTL — re-initialises after 60 seconds
    import importlib

    lazy_module = importlib.import_module("toolkit.patterns.lazy")  # the module, not the class

    now = lazy_module.time.monotonic()
    monkeypatch.setattr(lazy_module.time, "monotonic", lambda: now + 61.0)
    assert svc.config == {"flag": True}
    assert built == ["client", "client", "config", "config"]


# -- Strategy --------------------------------------------------------------------------------


def test_strategy_example() -> None:
    order = SimpleNamespace(subtotal=100.0)

    from toolkit.patterns import Strategy

    class PricingStrategy(Strategy):
        @abstractmethod
        def execute(self, order) -> float: ...

    @PricingStrategy.register("standard")
    class StandardPricing(PricingStrategy):
        def execute(self, order) -> float:
            return order.subtotal

    @PricingStrategy.register("premium")
    class PremiumPricing(PricingStrategy):
        def execute(self, order) -> float:
            return order.subtotal * 0.9  # 10% discount

    # Resolve at runtime
    strategy_cls = PricingStrategy.resolve("premium")
    price = strategy_cls().execute(order)
    # Raises StrategyNotFound with available names if not registered

    from toolkit.patterns.exceptions import StrategyNotFound

    assert price == 90.0
    with pytest.raises(StrategyNotFound) as excinfo:
        PricingStrategy.resolve("gold")
    assert str(excinfo.value) == (
        "'gold' is not a PricingStrategy; available: 'premium', 'standard'"
    )


# -- Cache layer -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_cache_layer_example(locmem_cache, django_assert_num_queries) -> None:
    from toolkit.patterns import cache_invalidate, cached

    @cached(ttl=300, key_prefix="orders:", vary_on=["user_id"])
    def get_user_orders(user_id: int) -> list:
        return Order.objects.filter(user_id=user_id)

    # Per-user cache isolation — different user_id → different cache entry
    orders = get_user_orders(user_id=42)

    @cache_invalidate("orders:*")
    def create_order(user_id: int, data: dict) -> Order:
        return Order.objects.create(user_id=user_id, **data)

    # Calling create_order() invalidates all "orders:*" cache keys
    create_order(user_id=42, data={"item": "Widget"})

    assert list(orders) == []
    with django_assert_num_queries(1):
        assert [o.item for o in get_user_orders(user_id=42)] == ["Widget"]
    with django_assert_num_queries(0):
        assert [o.item for o in get_user_orders(user_id=42)] == ["Widget"]
    with django_assert_num_queries(1):
        assert list(get_user_orders(user_id=7)) == []  # another user: its own entry


# -- Component -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_component_example(locmem_cache, django_assert_num_queries) -> None:
    user = User.objects.create(pk=42, name="Ada")
    for _ in range(5):
        Order.objects.create(user_id=42)

    from toolkit.patterns import Component, DMRComponentMixin

    class UserCard(Component):
        def render(self, context: dict) -> dict:
            user = User.objects.get(id=context["user_id"])
            return {"user": {"id": user.id, "name": user.name}}

    class OrderSummary(Component):
        def render(self, context: dict) -> dict:
            orders = Order.objects.filter(user_id=context["user_id"])
            return {"order_count": orders.count()}

    class ProfilePage(Component):
        children = [UserCard(), OrderSummary()]
        cache_ttl = 60  # cache rendered output for 60 seconds

        def render(self, context: dict) -> dict:
            return {"page": "profile"}

    # Async rendering — children resolved concurrently
    page = ProfilePage()

    async def snippet():
        result = await page.arender({"user_id": 42})
        # result = {"page": "profile", "user": {...}, "order_count": 5}
        return result

    result = run_async(snippet)
    with django_assert_num_queries(0):  # cache_ttl: the merged output comes from the cache
        assert page.render({"user_id": 42}) == result

    # In a DMR_Controller
    class ProfileController(DMRComponentMixin):
        def get(self, request):
            return self.component_response(ProfilePage())

    expected = {"page": "profile", "user": {"id": 42, "name": "Ada"}, "order_count": 5}
    assert result == expected
    request = RequestFactory().get("/profile/")
    request.user = SimpleNamespace(pk=user.pk, is_authenticated=True)
    response = ProfileController.as_view()(request)
    import json

    assert json.loads(response.content) == expected


# -- Command ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_command_example() -> None:
    from toolkit.patterns import Command

    class CreateOrderCommand(Command[Order]):
        def __init__(self, user_id: int, items: list):
            self.user_id = user_id
            self.items = items
            self._created_order = None

        def execute(self) -> Order:
            self._created_order = Order.objects.create(user_id=self.user_id, items=self.items)
            return self._created_order

        def undo(self) -> None:
            if self._created_order:
                self._created_order.delete()

    cmd = CreateOrderCommand(user_id=42, items=["Widget"])
    order = cmd.execute()  # creates order, writes CommandAuditLog if audit=True
    assert Order.objects.filter(pk=order.pk).exists()
    cmd.undo()  # deletes the order
    assert not Order.objects.exists()

    # Async variants
    async def snippet():
        order = await cmd.aexecute()
        assert await Order.objects.filter(pk=order.pk).aexists()
        await cmd.aundo()

    run_async(snippet)
    assert not Order.objects.exists()
    assert CommandAuditLog.objects.count() == 4  # two executes, two undos


# -- Unit of work ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_unit_of_work_example() -> None:
    from toolkit.patterns import DjangoRepository, EventBus

    class OrderRepo(DjangoRepository[Order, int]):
        model = Order

    class InventoryRepo(DjangoRepository[InventoryItem, int]):
        model = InventoryItem

    order_repo, inventory_repo, bus = OrderRepo(), InventoryRepo(), EventBus()
    item = InventoryItem.objects.create(sku="W-1", quantity=10)
    item.quantity = 9
    bad_order = Order(user_id=13)
    seen: list = []
    bus.on("order.*")(seen.append)

    from toolkit.patterns import UnitOfWork

    uow = UnitOfWork()
    with uow:
        order = order_repo.add(Order(user_id=42, total=99.99))
        inventory_repo.update(item)
        bus.emit("order.created", {"id": order.id})
        assert seen == []
    # All operations committed atomically on exit
    # EventBus events dispatched AFTER successful commit
    assert seen == [{"id": order.id}]
    assert InventoryItem.objects.get().quantity == 9

    # On exception — all operations rolled back, events suppressed
    try:
        with uow:
            order_repo.add(bad_order)
            raise ValueError("something went wrong")
    except ValueError:
        pass  # transaction rolled back, no events dispatched
    assert not Order.objects.filter(user_id=13).exists()

    # Async context manager
    async_order = Order(user_id=77)

    async def snippet():
        order = async_order
        async with uow:
            await order_repo.aadd(order)

    run_async(snippet)
    assert Order.objects.filter(user_id=77).exists()

    # Nested — inner block uses savepoints
    order = Order(user_id=55)
    item.quantity = 1

    def nested_example() -> None:
        with uow:
            order_repo.add(order)
            with uow:  # inner savepoint
                inventory_repo.update(item)
                raise ValueError()  # rolls back inner savepoint only
            # outer transaction still intact

    with pytest.raises(ValueError):  # as written, the inner error also leaves the outer block
        nested_example()
    assert not Order.objects.filter(user_id=55).exists()

    # The same blocks with the inner error handled: the outer transaction stays intact.
    order = Order(user_id=56)
    with uow:
        order_repo.add(order)
        try:
            with uow:
                inventory_repo.update(item)
                raise ValueError()
        except ValueError:
            pass
    assert Order.objects.filter(user_id=56).exists()
    assert InventoryItem.objects.get().quantity == 9


# -- Event store -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_event_store_example() -> None:
    revenue: list = []

    def update_revenue_report(payload) -> None:
        revenue.append(payload)

    from toolkit.patterns import EventStore

    store = EventStore()
    # Append events
    event = store.append(
        aggregate_id="order-42",
        aggregate_type="Order",
        event_type="OrderCreated",
        payload={"user_id": 42, "total": 99.99},
    )
    store.append("order-42", "Order", "OrderPaid", {"method": "card"})
    store.append("order-42", "Order", "OrderShipped", {"tracking": "ABC"})
    # Load and replay
    events = store.load("order-42")
    out = io.StringIO()
    with redirect_stdout(out):
        for e in events:
            print(f"seq={e.sequence} type={e.event_type}")
    assert (
        out.getvalue() == "seq=1 type=OrderCreated\nseq=2 type=OrderPaid\nseq=3 type=OrderShipped\n"
    )
    # Optimistic concurrency
    store.append("order-42", "Order", "OrderCancelled", {}, expected_seq=3)
    # Raises ConcurrencyConflict if current head != 3
    from toolkit.patterns.exceptions import ConcurrencyConflict

    with pytest.raises(ConcurrencyConflict):
        store.append("order-42", "Order", "OrderCancelled", {}, expected_seq=3)
    # Projections
    store.project("OrderPaid", lambda e: update_revenue_report(e.payload))
    # Snapshots — skip replaying old events
    store.save_snapshot("order-42", state={"status": "shipped"}, seq=3)
    snapshot = store.load_snapshot("order-42")
    events_after = store.load("order-42", after_seq=snapshot.sequence)
    # Human-readable replay log
    log = io.StringIO()
    with redirect_stdout(log):
        print(store.replay_log("order-42"))
    # seq=1 type=OrderCreated
    # seq=2 type=OrderPaid
    # seq=3 type=OrderShipped

    assert event.sequence == 1
    assert revenue == []  # projections see the events appended from now on
    store.append("order-43", "Order", "OrderPaid", {"method": "invoice"})
    assert revenue == [{"method": "invoice"}]
    assert [e.event_type for e in events_after] == ["OrderCancelled"]
    assert log.getvalue().splitlines()[:3] == [
        "seq=1 type=OrderCreated",
        "seq=2 type=OrderPaid",
        "seq=3 type=OrderShipped",
    ]


# -- Exceptions ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_exception_hierarchy_example() -> None:
    from toolkit.patterns import DjangoRepository

    class DjangoOrderRepository(DjangoRepository[Order, int]):
        model = Order

    repo = DjangoOrderRepository()

    from toolkit.patterns.exceptions import InvalidTransition, NotFound

    out = io.StringIO()
    with redirect_stdout(out):
        try:
            order = repo.get(999)
        except NotFound as e:
            print(repr(e))  # NotFound(model='Order', id=999)
    assert out.getvalue() == "NotFound(model='Order', id=999)\n"
    assert "order" not in locals()
    from toolkit.patterns import exceptions

    for name in (
        "NotFound",
        "InvalidTransition",
        "GuardFailed",
        "DuplicatePlugin",
        "StrategyNotFound",
        "ConcurrencyConflict",
        "EventDispatchError",
    ):
        assert issubclass(getattr(exceptions, name), exceptions.PatternError)
    assert issubclass(InvalidTransition, exceptions.PatternError)


# -- Test helpers ----------------------------------------------------------------------------


@dataclass
class MyEntity:
    id: int
    name: str


def test_test_helpers_example() -> None:
    from toolkit.testing import (
        FakeEventStore,
        InMemoryRepository,
        MockObserver,
        StrategyTestCase,  # noqa: F401 - the README's import; TestMyStrategy below uses it
    )

    # InMemoryRepository — full CRUD, raises NotFound correctly
    repo = InMemoryRepository()
    entity = repo.add(MyEntity(id=1, name="test"))
    assert repo.get(1) == entity
    # FakeEventStore — full append/load/snapshot, no DB
    store = FakeEventStore()
    store.append("agg-1", "Order", "Created", {})
    events = store.load("agg-1")
    # MockObserver — records emitted events for assertion
    mock_bus = MockObserver()
    mock_bus.emit("order.paid", {"id": 42})
    mock_bus.assert_emitted("order.paid", {"id": 42})

    assert [e.event_type for e in events] == ["Created"]
    from toolkit.patterns.exceptions import NotFound

    with pytest.raises(NotFound) as excinfo:
        repo.get(2)
    assert repr(excinfo.value) == "NotFound(model='MyEntity', id=2)"
    with pytest.raises(AssertionError):
        mock_bus.assert_emitted("order.paid", {"id": 43})
    store.save_snapshot("agg-1", state={"n": 1}, seq=1)
    assert store.load_snapshot("agg-1").state == {"n": 1}


# The README's StrategyTestCase example, collected and run by pytest like any TestCase.
from toolkit.patterns import Strategy  # noqa: E402


class MyStrategy(Strategy):
    pass


class ConcreteStrategy(MyStrategy):
    pass


from toolkit.testing import StrategyTestCase  # noqa: E402


# StrategyTestCase — isolates strategy registry per test
class TestMyStrategy(StrategyTestCase):
    strategy_class = MyStrategy

    def test_resolve(self):
        # Registry is fresh for each test — no cross-test pollution
        MyStrategy.register("test")(ConcreteStrategy)
        assert MyStrategy.resolve("test") is ConcreteStrategy

    def test_registry_is_fresh(self):
        assert MyStrategy.available() == []
