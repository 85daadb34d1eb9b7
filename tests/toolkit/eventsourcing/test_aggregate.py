"""Aggregates whose nested events apply themselves (pure Python, no database)."""

from __future__ import annotations

import pytest

from toolkit.eventsourcing import Aggregate, abstract
from toolkit.patterns.exceptions import ValidationError
from toolkit.registry import aggregates


class Todo(Aggregate):
    snapshot_every = 3

    class Created(Aggregate.Event):
        def apply(self, todo: Todo) -> None:
            todo.label = self.label
            todo.done = False

    class Relabelled(Aggregate.Event):
        pass

    class Completed(Aggregate.Event):
        event_type = "TodoCompleted"

        def apply(self, todo: Todo) -> None:
            todo.done = True


class Animal(Aggregate):
    abstract = True

    class Born(Aggregate.Event):
        def apply(self, animal: Animal) -> None:
            animal.name = self.name


class Dog(Animal):
    pass


def test_nested_events_get_a_qualified_type_unless_they_set_one() -> None:
    assert Todo.Created.event_type == "Todo.Created"
    assert Todo.Completed.event_type == "TodoCompleted"
    assert sorted(Todo.event_classes) == ["Todo.Created", "Todo.Relabelled", "TodoCompleted"]


def test_aggregates_register_by_type_name_except_abstract_ones() -> None:
    assert aggregates.get("Todo") is Todo
    assert aggregates.get("Dog") is Dog
    assert "Animal" not in aggregates


def test_events_of_an_abstract_parent_are_stored_under_the_child_type() -> None:
    assert Dog.Born.event_type == "Dog.Born"
    dog = Dog.create("d1", Dog.Born, name="Rex")
    assert dog.name == "Rex"


def test_trigger_applies_the_event_and_keeps_it_pending() -> None:
    todo = Todo.create("t1", Todo.Created, label="write docs")
    todo.trigger(Todo.Relabelled, label="write more docs")
    assert (todo.label, todo.done, todo.version) == ("write more docs", False, 2)
    assert [type(e) for e in todo.pending_events] == [Todo.Created, Todo.Relabelled]
    assert todo.collect_pending()[0].label == "write docs"
    assert todo.pending_events == []


def test_triggering_another_aggregates_event_is_rejected() -> None:
    todo = Todo("t1")
    with pytest.raises(ValidationError) as info:
        todo.trigger(Dog.Born, name="Rex")
    assert info.value.message == (
        "Born is not an event of Todo; its events: 'Todo.Created', 'Todo.Relabelled', "
        "'TodoCompleted'"
    )


def test_event_data_reads_as_attributes_and_names_missing_ones() -> None:
    event = Todo.Created(label="x")
    assert event.label == "x"
    with pytest.raises(AttributeError) as info:
        _ = event.colour
    assert str(info.value) == "Created has no attribute 'colour'; its data has: 'label'"


def test_snapshot_state_is_the_public_state() -> None:
    todo = Todo.create("t1", Todo.Created, label="x")
    assert todo.snapshot_state() == {"label": "x", "done": False}
    fresh = Todo("t1")
    fresh.restore_state({"label": "y", "done": True})
    assert (fresh.label, fresh.done) == ("y", True)


def test_snapshot_every_must_be_positive() -> None:
    with pytest.raises(ValidationError) as info:

        class Bad(Aggregate):
            snapshot_every = 0

    assert info.value.message == "Bad.snapshot_every must be None or a positive integer, not 0"
    aggregates.unregister("Bad")


def test_the_abstract_decorator_works_like_the_attribute() -> None:
    @abstract
    class Pet(Aggregate):
        class Adopted(Aggregate.Event):
            pass

    class Cat(Pet):
        pass

    try:
        assert "Pet" not in aggregates
        assert aggregates.get("Cat") is Cat
        assert sorted(Cat.event_classes) == ["Cat.Adopted"]
        assert Cat.create("c1", Cat.Adopted).pending_events[0].event_type == "Cat.Adopted"
    finally:
        aggregates.unregister("Cat")


def test_abstract_rejects_what_is_not_an_aggregate() -> None:
    with pytest.raises(TypeError) as info:
        abstract(int)  # type: ignore[type-var]
    assert str(info.value) == "@abstract takes an Aggregate subclass, not <class 'int'>"


def test_a_child_event_replaces_the_abstract_parents_event_of_that_name() -> None:
    class Cat(Animal):
        class Born(Animal.Born):
            pass

    try:
        assert Cat.event_classes == {"Cat.Born": Cat.Born}
        assert Cat.Born.__qualname__.endswith("Cat.Born")
        assert Cat.abstract is False  # the abstract mark is not inherited

        class Kitten(Cat):
            pass

        # Cat is concrete: Kitten keeps Cat's event (and its stored type).
        assert Kitten.event_classes == {"Cat.Born": Cat.Born}
    finally:
        aggregates.unregister("Cat")
        aggregates.unregister("Kitten")
