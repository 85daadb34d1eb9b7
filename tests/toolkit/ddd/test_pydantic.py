"""The pydantic flavour, and the error when pydantic is missing."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from pydantic import Field

from toolkit.ddd import ImmutableValueObject
from toolkit.ddd.pydantic import Aggregate, AggregateEvent, Entity, ValueObject


class Money(ValueObject):
    amount: int
    currency: str


class Customer(Entity):
    customer_id: int
    name: str


class Basket(Aggregate):
    basket_id: int
    items: list[str] = Field(default_factory=list)

    class ItemAdded(AggregateEvent):
        item: str


def test_value_object_equality_and_immutability() -> None:
    price = Money(amount=5, currency="EUR")
    assert price == Money(amount=5, currency="EUR")
    assert len({price, Money(amount=5, currency="EUR")}) == 1
    with pytest.raises(ImmutableValueObject) as excinfo:
        price.amount = 6
    assert excinfo.value.args[0].startswith("Cannot change attribute 'amount' of Money")
    assert price.model_copy(update={"amount": 6}).amount == 6


def test_entity_identity() -> None:
    assert Customer(customer_id=1, name="a") == Customer(customer_id=1, name="b")
    assert Customer(customer_id=1, name="a") != Customer(customer_id=2, name="a")


def test_aggregate_events() -> None:
    basket = Basket(basket_id=1)
    basket.add_event(Basket.ItemAdded(item="lamp"))
    assert basket.collect_events() == [Basket.ItemAdded(item="lamp")]
    assert basket.pending_events == []


def test_missing_pydantic_names_the_install_command() -> None:
    code = (
        "import sys; sys.modules['pydantic'] = None\n"
        "try:\n"
        "    import toolkit.ddd.pydantic\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out == (
        "MissingDependencyError Package 'pydantic' is not installed but required. You can "
        "install it by running `pip install 'django-pattern-toolkit[pydantic]'` to install the "
        "toolkit with the required extra or 'pip install pydantic' to install the package "
        "separately\n"
    )
    assert importlib.import_module("toolkit.ddd.pydantic").Aggregate is Aggregate


def test_equal_events_hash_alike() -> None:
    first, second = Basket.ItemAdded(item="lamp"), Basket.ItemAdded(item="lamp")
    assert first.event_id != second.event_id
    assert first == second
    assert len({first, second}) == 1


def test_events_have_dddkits_version_id_and_occurred_on() -> None:
    import uuid

    event = Basket.ItemAdded(item="lamp")
    assert event.version == 1
    assert isinstance(event.id, uuid.UUID)
    assert event.event_id == event.id
    assert event.occurred_on.tzinfo is not None
    assert event != Basket.ItemAdded(item="lamp", version=2)
