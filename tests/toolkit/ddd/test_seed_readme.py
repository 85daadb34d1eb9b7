"""Every code example of the dddkit README (the seed) runs, with the import root changed.

The examples are copied from ``shared/seeds/dddkit-readme.txt`` as they are (indentation
restored), still importing ``dddkit``; :func:`run_example` rewrites ``dddkit.stories`` to
``toolkit.stories`` and ``dddkit.`` to ``toolkit.ddd.`` and executes them in a fresh module.
The README uses ``ProductCreated`` without defining it; :data:`PRODUCT_CREATED` defines it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import types
from itertools import count
from typing import Any

import pytest
from prometheus_client import REGISTRY

_counter = count()


def rewrite_imports(source: str) -> str:
    """``dddkit.stories`` → ``toolkit.stories``; any other ``dddkit.`` → ``toolkit.ddd.``."""
    return source.replace("dddkit.stories", "toolkit.stories").replace("dddkit.", "toolkit.ddd.")


def run_example(*sources: str) -> dict[str, Any]:
    """Execute the examples one after the other in one new module; return its namespace."""
    module = types.ModuleType(f"seed_readme_example_{next(_counter)}")
    sys.modules[module.__name__] = module
    try:
        for source in sources:
            exec(compile(rewrite_imports(source), module.__name__, "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


DATACLASSES_BASKET = '''
from typing import NewType
from dataclasses import dataclass, field
from dddkit.dataclasses import Aggregate, Entity

ProductName = NewType('ProductName', str)
ProductId = NewType('ProductId', int)
BasketId = NewType('BasketId', int)


@dataclass(kw_only=True)
class Product(Entity):
    product_id: ProductId
    name: ProductName
    amount: float = 0


@dataclass(kw_only=True)
class Basket(Aggregate):
    basket_id: BasketId
    items: dict[ProductId, Product] = field(default_factory=dict)

    @classmethod
    def new(cls, basket_id: BasketId):
        return cls(basket_id=basket_id)

    def add_item(self, item: Product):
        if _item := self.items.get(item.product_id):
            _item.amount = item.amount


# Use repositories and event handling
from dddkit.dataclasses import Repository


class BasketRepository(Repository[Basket, BasketId]):
    """Repository for basket"""
'''

PYDANTIC_BASKET = '''
from typing import NewType
from dddkit.pydantic import Aggregate, Entity, AggregateEvent
from pydantic import Field

ProductName = NewType('ProductName', str)
ProductId = NewType('ProductId', int)
BasketId = NewType('BasketId', int)


class Product(Entity):
    product_id: ProductId
    name: ProductName
    amount: float = 0


class Basket(Aggregate):
    basket_id: BasketId
    items: dict[ProductId, Product] = Field(default_factory=dict)

    @classmethod
    def new(cls, basket_id: BasketId):
        return cls(basket_id=basket_id)

    def add_item(self, item: Product):
        if _item := self.items.get(item.product_id):
            _item.amount = item.amount


# Use repositories and event handling
from dddkit.pydantic import Repository


class BasketRepository(Repository[Basket, BasketId]):
    """Repository for basket"""
'''

DATACLASSES_EVENTS = '''
from typing import NewType
from dataclasses import dataclass, field
from dddkit.dataclasses import Aggregate, Entity, AggregateEvent

ProductName = NewType('ProductName', str)
ProductId = NewType('ProductId', int)
BasketId = NewType('BasketId', int)


@dataclass(kw_only=True)
class Product(Entity):
    product_id: ProductId
    name: ProductName
    amount: float = 0


@dataclass(kw_only=True)
class Basket(Aggregate):
    basket_id: BasketId
    items: dict[ProductId, Product] = field(default_factory=dict)

    @dataclass(frozen=True, kw_only=True)
    class Created(AggregateEvent):
        """Basket created event"""

    @dataclass(frozen=True, kw_only=True)
    class AddedItem(AggregateEvent):
        item: Product

    @classmethod
    def new(cls, basket_id: BasketId):
        basket = cls(basket_id=basket_id)
        basket.add_event(cls.Created())
        return basket

    def add_item(self, item: Product):
        if _item := self.items.get(item.product_id):
            _item.amount = item.amount
            self.add_event(self.AddedItem(item=_item))
'''

PRODUCT_CREATED = """
from dataclasses import dataclass
from typing import NewType
from dddkit.dataclasses import DomainEvent

ProductId = NewType('ProductId', str)


@dataclass(frozen=True, kw_only=True)
class ProductCreated(DomainEvent):
    product_id: ProductId
    name: str
"""

EVENT_BROKER_SYNC = """
from dddkit.dataclasses import EventBroker

handle_event = EventBroker()


# sync
@handle_event.handle(ProductCreated)
def _(event: ProductCreated):
    # Handle the event
    print(f"Product {event.name} created with ID {event.product_id}")


product_event = ProductCreated(product_id=ProductId("123"), name="Test Product")


def context():
    handle_event(product_event)
"""

EVENT_BROKER_ASYNC = """
# Or async
@handle_event.handle(ProductCreated)
async def _(event: ProductCreated):
    # Handle the event
    print(f"Product {event.name} created with ID {event.product_id}")


async def context():
    await handle_event(product_event)
"""

SHOPPING_CART = """
from dataclasses import dataclass
from dddkit.stories import I, Story
from types import SimpleNamespace


@dataclass(frozen=True, slots=True)
class ShoppingCartStory(Story):
    # Define the steps in the story
    I.add_item
    I.apply_discount
    I.calculate_total

    class State(SimpleNamespace):
        items: list = []
        discount: float = 0.0
        total: float = 0.0

    def add_item(self, state: State):
        state.items.append({"name": "Product A", "price": 10.0})

    def apply_discount(self, state: State):
        if len(state.items) > 1:
            state.discount = 0.1  # 10% discount

    def calculate_total(self, state: State):
        subtotal = sum(item["price"] for item in state.items)
        state.total = subtotal * (1 - state.discount)


# Execute the story
story = ShoppingCartStory()
state = story.State()
story(state)

print(f"Items: {state.items}")
print(f"Discount: {state.discount}")
print(f"Total: {state.total}")
"""

ASYNC_STORY = """
import asyncio
from dataclasses import dataclass
from dddkit.stories import I, Story
from types import SimpleNamespace


@dataclass(frozen=True, slots=True)
class AsyncProcessingStory(Story):
    I.fetch_data
    I.process_data
    I.save_result

    class State(SimpleNamespace):
        raw_data: str = ""
        processed_data: str = ""
        saved: bool = False

    async def fetch_data(self, state: State):
        # Simulate async data fetching
        await asyncio.sleep(0.1)
        state.raw_data = "some raw data"

    def process_data(self, state: State):
        state.processed_data = state.raw_data.upper()

    async def save_result(self, state: State):
        # Simulate async saving
        await asyncio.sleep(0.05)
        state.saved = True


# Execute the async story
async def run_async_story():
    story = AsyncProcessingStory()
    state = story.State()
    await story(state)
    return state

# asyncio.run(run_async_story())
"""

HOOKED_STORY = """
from dataclasses import dataclass
from dddkit.stories import I, Story, inject_hooks, ExecutionTimeTracker, StatusTracker, LoggingHook
from types import SimpleNamespace


@dataclass(frozen=True, slots=True)
class HookedStory(Story):
    I.step_one
    I.step_two
    I.step_three

    class State(SimpleNamespace):
        step_one_completed: bool = False
        step_two_completed: bool = False
        step_three_completed: bool = False

    def step_one(self, state: State):
        state.step_one_completed = True

    def step_two(self, state: State):
        state.step_two_completed = True

    def step_three(self, state: State):
        state.step_three_completed = True


# Inject default hooks (StatusTracker, ExecutionTimeTracker, LoggingHook)
story_class = HookedStory
inject_hooks(story_class)

# Execute the story with hooks
story = story_class()
state = story.State()
story(state)
"""

CUSTOM_HOOK = """
from dddkit.stories import StoryExecutionContext, StepExecutionInfo, inject_hooks


class CustomHook:
    def before(self, context: StoryExecutionContext, step_info: StepExecutionInfo):
        print(f"Starting step: {step_info.step_name}")

    def after(self, context: StoryExecutionContext, step_info: StepExecutionInfo):
        print(f"Completed step: {step_info.step_name}")

    def error(self, context: StoryExecutionContext, step_info: StepExecutionInfo):
        print(f"Error in step: {step_info.step_name}, Error: {step_info.error}")


# Inject custom hooks
inject_hooks(HookedStory, hooks=[CustomHook()])
"""

MONITORED_STORY = """
from dataclasses import dataclass
from dddkit.stories import I, Story, inject_hooks
from dddkit.stories.prometheus import PrometheusMetricsHook
from types import SimpleNamespace


@dataclass(frozen=True, slots=True)
class MonitoredStory(Story):
    I.step_one
    I.step_two
    I.step_three

    class State(SimpleNamespace):
        step_one_completed: bool = False
        step_two_completed: bool = False
        step_three_completed: bool = False

    def step_one(self, state: State):
        state.step_one_completed = True

    def step_two(self, state: State):
        state.step_two_completed = True

    def step_three(self, state: State):
        state.step_three_completed = True


# Create an instance of PrometheusMetricsHook
prometheus_hook = PrometheusMetricsHook(
    app_name="my_app",
    prefix="my_service",
    labels={"env": "production", "version": "1.0.0"},
    buckets=[5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]  # in milliseconds
)

# Inject the hook into your story class
inject_hooks(MonitoredStory, hooks=[prometheus_hook])

# Execute the story
story = MonitoredStory()
state = story.State()
story(state)
"""

ASYNC_MONITORED_STORY = """
from dataclasses import dataclass
from dddkit.stories import I, Story, inject_hooks
from dddkit.stories.aioprometheus import PrometheusMetricsHook
from types import SimpleNamespace


@dataclass(frozen=True, slots=True)
class AsyncMonitoredStory(Story):
    I.step_one
    I.step_two
    I.step_three

    class State(SimpleNamespace):
        step_one_completed: bool = False
        step_two_completed: bool = False
        step_three_completed: bool = False

    def step_one(self, state: State):
        state.step_one_completed = True

    def step_two(self, state: State):
        state.step_two_completed = True

    def step_three(self, state: State):
        state.step_three_completed = True


# Create an instance of AIOPrometheusMetricsHook
prometheus_hook = PrometheusMetricsHook(
    app_name="my_async_app",
    prefix="my_async_service",
    labels={"env": "production", "version": "1.0.0"},
    buckets=[5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]  # in milliseconds
)

# Inject the hook into your story class
inject_hooks(AsyncMonitoredStory, hooks=[prometheus_hook])

# Execute the story
story = AsyncMonitoredStory()
state = story.State()
story(state)
"""


def test_rewrite_imports_maps_dddkit_to_the_toolkit() -> None:
    assert rewrite_imports("from dddkit.dataclasses import Aggregate") == (
        "from toolkit.ddd.dataclasses import Aggregate"
    )
    assert rewrite_imports("from dddkit.stories.prometheus import X") == (
        "from toolkit.stories.prometheus import X"
    )


def test_dataclasses_basket_example() -> None:
    ns = run_example(DATACLASSES_BASKET)
    basket = ns["Basket"].new(ns["BasketId"](1))
    lamp = ns["Product"](product_id=1, name="Lamp", amount=1)
    basket.items[1] = lamp
    basket.add_item(ns["Product"](product_id=1, name="Lamp", amount=3))
    assert basket.items[1].amount == 3
    assert issubclass(ns["BasketRepository"], ns["Repository"])


def test_pydantic_basket_example() -> None:
    ns = run_example(PYDANTIC_BASKET)
    basket = ns["Basket"].new(1)
    basket.items[1] = ns["Product"](product_id=1, name="Lamp")
    basket.add_item(ns["Product"](product_id=1, name="Lamp", amount=2.5))
    assert basket.items[1].amount == 2.5
    assert issubclass(ns["BasketRepository"], ns["Repository"])


def test_dataclasses_events_example_records_events() -> None:
    ns = run_example(DATACLASSES_EVENTS)
    basket_cls, product_cls = ns["Basket"], ns["Product"]
    basket = basket_cls.new(7)
    basket.items[1] = product_cls(product_id=1, name="Lamp")
    basket.add_item(product_cls(product_id=1, name="Lamp", amount=4))
    events = basket.collect_events()
    assert [type(e).__name__ for e in events] == ["Created", "AddedItem"]
    assert events[1].item.amount == 4
    assert basket.pending_events == []


def test_event_broker_sync_example(capsys: pytest.CaptureFixture[str]) -> None:
    ns = run_example(PRODUCT_CREATED, EVENT_BROKER_SYNC)
    ns["context"]()
    assert capsys.readouterr().out == "Product Test Product created with ID 123\n"


def test_event_broker_sync_and_async_example(capsys: pytest.CaptureFixture[str]) -> None:
    ns = run_example(PRODUCT_CREATED, EVENT_BROKER_SYNC)
    sync_context = ns["context"]
    run_example_into(ns, EVENT_BROKER_ASYNC)
    asyncio.run(ns["context"]())
    # Both handlers, in registration order (the sync one first).
    assert capsys.readouterr().out == "Product Test Product created with ID 123\n" * 2
    sync_context()  # no running loop: the async handler runs on a private loop
    assert capsys.readouterr().out == "Product Test Product created with ID 123\n" * 2


def run_example_into(ns: dict[str, Any], source: str) -> None:
    module = types.ModuleType(ns["__name__"])
    module.__dict__.update(ns)
    sys.modules[module.__name__] = module
    try:
        exec(compile(rewrite_imports(source), module.__name__, "exec"), ns)
    finally:
        del sys.modules[module.__name__]


def test_shopping_cart_story_example(capsys: pytest.CaptureFixture[str]) -> None:
    run_example(SHOPPING_CART)
    assert capsys.readouterr().out == (
        "Items: [{'name': 'Product A', 'price': 10.0}]\nDiscount: 0.0\nTotal: 10.0\n"
    )


def test_async_story_example() -> None:
    ns = run_example(ASYNC_STORY)
    state = asyncio.run(ns["run_async_story"]())
    assert (state.raw_data, state.processed_data, state.saved) == (
        "some raw data",
        "SOME RAW DATA",
        True,
    )


def test_hooked_story_example_logs_the_step_tree(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="toolkit.stories"):
        ns = run_example(HOOKED_STORY)
    state = ns["state"]
    assert (state.step_one_completed, state.step_two_completed, state.step_three_completed) == (
        True,
        True,
        True,
    )
    # Timings are real; the seed shows them as [0.000s]: check their format, then normalise.
    trees = [
        re.sub(r"\[\d+\.\d{3}s\]", "[0.000s]", r.getMessage())
        for r in caplog.records
        if r.name == "toolkit.stories"
    ]
    assert trees == [
        "\nHookedStory:\n    ⟳I.step_one\n    I.step_two\n    I.step_three",
        "\nHookedStory:\n    ✓I.step_one [0.000s]\n    ⟳I.step_two\n    I.step_three",
        "\nHookedStory:\n    ✓I.step_one [0.000s]\n    ✓I.step_two [0.000s]\n    ⟳I.step_three",
        "\nHookedStory:\n    ✓I.step_one [0.000s]\n    ✓I.step_two [0.000s]\n"
        "    ✓I.step_three [0.000s]",
    ]


def test_custom_hook_example(capsys: pytest.CaptureFixture[str]) -> None:
    ns = run_example(HOOKED_STORY, CUSTOM_HOOK)
    capsys.readouterr()
    story = ns["HookedStory"]()
    story(story.State())
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Starting step: step_one",
        "Completed step: step_one",
        "Starting step: step_two",
        "Completed step: step_two",
        "Starting step: step_three",
        "Completed step: step_three",
    ]


def test_prometheus_example_observes_story_and_steps() -> None:
    labels = {"service": "my_app", "story_name": "MonitoredStory", "status": "completed"}
    custom = {"env": "production", "version": "1.0.0"}
    story_labels = {**labels, **custom}
    step_labels = {**labels, **custom, "step_name": "step_two"}

    def sample(name: str, sample_labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, sample_labels) or 0.0

    story_before = sample("my_service_executions_latency_ms_count", story_labels)
    step_before = sample("my_service_step_executions_latency_ms_count", step_labels)
    run_example(MONITORED_STORY)
    assert sample("my_service_executions_latency_ms_count", story_labels) == story_before + 1
    assert sample("my_service_step_executions_latency_ms_count", step_labels) == step_before + 1
    # The seed's buckets: 2500 ms is one of them, and three trivial steps fall below it.
    assert sample(
        "my_service_executions_latency_ms_bucket", {**story_labels, "le": "2500.0"}
    ) == sample("my_service_executions_latency_ms_count", story_labels)


def test_aioprometheus_example_runs_synchronously_and_observes_story_and_steps() -> None:
    # The seed calls ``story(state)`` without await: a story of sync steps runs at once.
    ns = run_example(ASYNC_MONITORED_STORY)
    state = ns["state"]
    assert (state.step_one_completed, state.step_two_completed, state.step_three_completed) == (
        True,
        True,
        True,
    )
    hook = ns["prometheus_hook"]
    values = hook.story_histogram.get({"story_name": "AsyncMonitoredStory", "status": "completed"})
    assert values["count"] == 1
    assert [b for b in values if b not in ("count", "sum")] == [
        5.0,
        10.0,
        25.0,
        50.0,
        100.0,
        250.0,
        500.0,
        1000.0,
        2500.0,
        5000.0,
        10000.0,
        float("inf"),
    ]
    step = hook.step_histogram.get(
        {"story_name": "AsyncMonitoredStory", "step_name": "step_three", "status": "completed"}
    )
    assert step["count"] == 1
    assert hook.story_histogram.const_labels == {
        "service": "my_async_app",
        "env": "production",
        "version": "1.0.0",
    }
    assert (hook.story_histogram.name, hook.step_histogram.name) == (
        "my_async_service_executions_latency_ms",
        "my_async_service_step_executions_latency_ms",
    )
