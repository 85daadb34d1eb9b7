"""The dataclasses flavour: value objects, entities, aggregates, events."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from toolkit.ddd import (
    Aggregate,
    AggregateEvent,
    DomainEvent,
    Entity,
    ImmutableValueObject,
    ValueObject,
)
from toolkit.patterns.exceptions import ValidationError


class Money(ValueObject):
    amount: int
    currency: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Sku(ValueObject):
    code: str


class Customer(Entity):
    customer_id: int
    name: str


class Basket(Aggregate):
    basket_id: int
    items: list[str] = field(default_factory=list)

    class ItemAdded(AggregateEvent):
        item: str

    def add(self, item: str) -> None:
        self.items.append(item)
        self.add_event(self.ItemAdded(item=item))


def test_value_objects_are_equal_by_value_and_hashable() -> None:
    assert Money(amount=5, currency="EUR") == Money(amount=5, currency="EUR")
    assert Money(amount=5, currency="EUR") != Money(amount=6, currency="EUR")
    assert len({Money(amount=5, currency="EUR"), Money(amount=5, currency="EUR")}) == 1


@pytest.mark.parametrize(
    "value", [Money(amount=5, currency="EUR"), Sku(code="LAMP")], ids=["auto", "decorated"]
)
def test_value_object_mutation_raises_naming_the_attribute(value: ValueObject) -> None:
    name = dataclasses.fields(value)[0].name  # type: ignore[arg-type]
    with pytest.raises(ImmutableValueObject) as excinfo:
        setattr(value, name, 1)
    assert excinfo.value.args == (
        f"Cannot change attribute {name!r} of {type(value).__name__}: value objects are "
        f"immutable; build a new one with dataclasses.replace() or model_copy()",
    )
    assert isinstance(excinfo.value, dataclasses.FrozenInstanceError)
    with pytest.raises(ImmutableValueObject):
        delattr(value, name)


def test_value_object_replace_builds_a_changed_copy() -> None:
    price = Money(amount=5, currency="EUR")
    assert dataclasses.replace(price, amount=7) == Money(amount=7, currency="EUR")
    assert price.amount == 5


def test_entities_are_equal_by_identity_not_by_attributes() -> None:
    alice = Customer(customer_id=1, name="Alice")
    renamed = Customer(customer_id=1, name="Alicia")
    assert alice == renamed
    assert hash(alice) == hash(renamed)
    assert alice != Customer(customer_id=2, name="Alice")
    renamed.name = "Al"  # entities are mutable
    assert renamed.entity_id == 1


def test_decorating_an_entity_with_dataclass_keeps_identity_equality() -> None:
    @dataclass(kw_only=True)
    class Item(Entity):
        id: int
        label: str

    assert Item(id=1, label="a") == Item(id=1, label="b")


def test_entity_identity_can_be_chosen() -> None:
    class Batch(Entity):
        identity = "reference"
        reference: str
        qty: int

    assert Batch(reference="b1", qty=1) == Batch(reference="b1", qty=2)


def test_entity_without_identity_field_raises_listing_fields() -> None:
    class Thing(Entity):
        name: str

    with pytest.raises(ValidationError) as excinfo:
        Thing(name="x").entity_id
    assert excinfo.value.args == (
        "Thing has no identity field: add an 'id' or '<name>_id' field or set "
        "identity = '<field>'; fields: 'name'",
    )


def test_unknown_identity_field_raises() -> None:
    class Thing(Entity):
        identity = "code"
        name: str

    with pytest.raises(ValidationError) as excinfo:
        Thing(name="x").entity_id
    assert excinfo.value.args == ("Thing.identity is 'code', which is not a field; fields: 'name'",)


def test_aggregate_collects_and_clears_pending_events() -> None:
    basket = Basket(basket_id=1)
    basket.add("lamp")
    basket.add("chair")
    assert [e.item for e in basket.pending_events] == ["lamp", "chair"]  # type: ignore[attr-defined]
    events = basket.collect_events()
    assert events == [Basket.ItemAdded(item="lamp"), Basket.ItemAdded(item="chair")]
    assert basket.pending_events == []
    assert basket.collect_events() == []
    basket.add("desk")
    basket.clear_events()
    assert basket.get_events() == []


def test_aggregates_do_not_share_pending_events() -> None:
    a, b = Basket(basket_id=1), Basket(basket_id=2)
    a.add("lamp")
    assert b.pending_events == []


def test_events_are_frozen_and_carry_id_and_time() -> None:
    event = Basket.ItemAdded(item="lamp")
    with pytest.raises(dataclasses.FrozenInstanceError) as excinfo:
        event.item = "x"  # type: ignore[misc]
    assert excinfo.value.args == (
        "Cannot change attribute 'item' of ItemAdded: events are immutable",
    )
    assert event.occurred_on.tzinfo is not None
    assert event.event_id != Basket.ItemAdded(item="lamp").event_id
    assert isinstance(event, DomainEvent)


def test_events_have_dddkits_version_id_and_occurred_on() -> None:
    import uuid

    event = Basket.ItemAdded(item="lamp")
    assert event.version == 1
    assert isinstance(event.id, uuid.UUID)
    assert event.event_id == event.id  # the toolkit's earlier name
    assert Basket.ItemAdded(item="lamp", version=2).version == 2
    # equal by data: the id and the time differ between records of the same fact
    assert event == Basket.ItemAdded(item="lamp")
    assert event != Basket.ItemAdded(item="lamp", version=2)
