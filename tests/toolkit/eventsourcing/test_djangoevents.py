"""djangoevents 0.14.1's API on the event-sourcing core: its README's blocks and its behaviour.

Each ``test_readme_*`` runs one block of djangoevents' README with ``djangoevents`` changed to
``toolkit.eventsourcing``; the others pin behaviour of the published package (``domain.py``,
``schema.py``, ``settings.py``, ``unifiedtranscoder.py``, eventsourcing 1.2's ``entity.py``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from toolkit.eventsourcing import config
from toolkit.eventsourcing import djangoevents as face
from toolkit.eventsourcing import handlers as handler_registry
from toolkit.eventsourcing.backends.memory import MemoryEventStoreBackend
from toolkit.eventsourcing.checks import check_eventsourcing
from toolkit.eventsourcing.schemas import SchemaRegistry
from toolkit.patterns.event_store import EventStore
from toolkit.patterns.exceptions import ConcurrencyConflict, SchemaValidationError, ValidationError
from toolkit.registry import aggregates

TODO_ID = "6deaca4c-d866-4b28-9878-8814a55a4688"


@pytest.fixture(autouse=True)
def _clean_registries() -> Iterator[None]:
    # Each test defines its aggregates as a README would, in a project of its own: other test
    # modules' aggregates of the same name (test_aggregate's Todo) would be refused as a
    # second, different class under one name.
    before = dict(aggregates.items())
    aggregates.clear()
    yield
    handler_registry.clear()
    face._deliveries.clear()
    aggregates.clear()
    for name, aggregate in before.items():
        aggregates.register(name, aggregate)
    config.reset()


@pytest.fixture
def store() -> EventStore:
    return EventStore(MemoryEventStoreBackend())


def define_todo() -> Any:
    # README "BaseAggregate" block, verbatim but for the import.
    from toolkit.eventsourcing import BaseAggregate

    class Todo(BaseAggregate):
        class Created(BaseAggregate.Created):
            def mutate_event(self, event, cls):  # type: ignore[no-untyped-def]
                return cls(
                    entity_id=event.entity_id,
                    entity_version=event.entity_version,
                    domain_event_id=event.domain_event_id,
                    label=event.label,
                    done=False,
                )

        class ChangedLabel(BaseAggregate.AttributeChanged):
            def mutate_event(self, event, instance):  # type: ignore[no-untyped-def]
                instance.label = event.label
                return instance

    return Todo


# -- README blocks ------------------------------------------------------------------------


def test_readme_installed_apps_block_the_toolkit_app_is_the_djangoevents_app() -> None:
    from django.conf import settings

    assert "toolkit" in settings.INSTALLED_APPS


def test_readme_base_aggregate_block_stores_and_rebuilds_a_todo(store: EventStore) -> None:
    from toolkit.eventsourcing import EventSourcingWithDjango, store_event

    Todo = define_todo()
    store_event(Todo.Created(entity_id=TODO_ID, label="write docs"), store=store)
    store_event(Todo.ChangedLabel(entity_id=TODO_ID, entity_version=1, label="ship"), store=store)

    todo = EventSourcingWithDjango(event_store=store).get_repo_for_aggregate(Todo)[TODO_ID]
    assert (todo.id, todo.version, todo.label, todo.done) == (TODO_ID, 2, "ship", False)
    assert [e.event_type for e in store.load(TODO_ID)] == ["todo_created", "todo_changed_label"]


@pytest.mark.django_db
def test_readme_event_sourcing_with_django_block_runs_on_the_django_store() -> None:
    from toolkit.eventsourcing import (
        EventSourcedEntity,
        EventSourcedRepository,
        EventSourcingWithDjango,
        store_event,
    )

    class Todo(EventSourcedEntity):
        pass

    class TodoRepository(EventSourcedRepository):  # type: ignore[type-arg]
        domain_class = Todo

    es_app = EventSourcingWithDjango()
    with pytest.warns(DeprecationWarning, match="get_repo_for_entity` is depreciated"):
        repo = es_app.get_repo_for_entity(Todo)

    # publish event (saves in the database)
    todo_created_event = Todo.Created(
        entity_id="6deaca4c-d866-4b28-9878-8814a55a4688",
        label="my next thing to do",
        metadata={"command_id": "..."},
    )
    store_event(todo_created_event)

    # get todo aggregate from repo by aggregate id
    my_todo = repo["6deaca4c-d866-4b28-9878-8814a55a4688"]

    assert (my_todo.id, my_todo.version, my_todo.label) == (TODO_ID, 1, "my next thing to do")
    assert TodoRepository()[TODO_ID].label == "my next thing to do"
    (stored,) = EventStore().load(TODO_ID)
    assert (stored.aggregate_type, stored.event_type) == ("Todo", "todo_created")
    assert stored.payload == {"label": "my next thing to do"}
    assert stored.metadata == {"command_id": "..."}


@pytest.mark.django_db
def test_readme_event_handlers_block_subscribe_to_gets_the_event_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from toolkit.eventsourcing import BaseAggregate, store_event, subscribe_to

    class Miracle(BaseAggregate):
        class Happened(BaseAggregate.Created):
            def mutate_event(self, event, cls):  # type: ignore[no-untyped-def]
                return cls(entity_id=event.entity_id, where=event.where)

    seen: list[Any] = []

    @subscribe_to(Miracle.Happened)
    def miracle_handler(event):  # type: ignore[no-untyped-def]
        seen.append(event)

    with django_capture_on_commit_callbacks(execute=True):
        store_event(Miracle.Happened(entity_id="m1", where="here"))
        assert seen == []  # not before the transaction commits
    (event,) = seen
    assert isinstance(event, Miracle.Happened)
    assert (event.entity_id, event.entity_version, event.where) == ("m1", 0, "here")


def test_readme_handlers_modules_are_auto_imported() -> None:
    # README: "There is auto-import mechanism that would import handlers.py file for all
    # apps mentioned in INSTALLED_APPS" (a start-up hook of the toolkit app).
    from toolkit.startup import _hooks

    assert handler_registry.autodiscover_handlers in _hooks


def test_readme_import_shortcuts_block_every_name_imports() -> None:
    from functools import singledispatch as functools_singledispatch

    from toolkit.eventsourcing import (
        DomainEvent,
        EventSourcedEntity,
        EventSourcedRepository,
        entity_mutator,
        singledispatch,
        store_event,
        subscribe,
        subscribe_to,
        unsubscribe,
    )

    assert singledispatch is functools_singledispatch
    assert issubclass(EventSourcedEntity.Created, DomainEvent)
    assert callable(entity_mutator.register)
    for name in (EventSourcedRepository, store_event, subscribe, subscribe_to, unsubscribe):
        assert callable(name)


def test_readme_schema_validation_setting_block_turns_validation_on(tmp_path: Path) -> None:
    (tmp_path / "avro").mkdir()
    with override_settings(
        BASE_DIR=tmp_path / "src",
        DJANGOEVENTS_CONFIG={"EVENT_SCHEMA_VALIDATION": {"ENABLED": True, "SCHEMA_DIR": "avro"}},
    ):
        options = config.es_settings()
    assert options["validate_on_append"] is True
    assert options["require_schemas"] is True
    assert options["schema_dirs"] == [tmp_path / "avro"]
    assert config.es_settings()["validate_on_append"] is False  # back to the defaults


def test_readme_abstract_block_only_concrete_aggregates_need_schemas(tmp_path: Path) -> None:
    from toolkit.eventsourcing import BaseAggregate, abstract

    @abstract
    class Animal(BaseAggregate):
        class Created(BaseAggregate.Created):
            def mutate_event(self, event, cls):  # type: ignore[no-untyped-def]
                return cls(
                    entity_id=event.entity_id,
                    entity_version=event.entity_version,
                    domain_event_id=event.domain_event_id,
                    label=event.label,
                    done=False,
                )

    class Dog(Animal):
        pass

    (tmp_path / "avro").mkdir()
    with override_settings(
        BASE_DIR=tmp_path / "src",
        DJANGOEVENTS_CONFIG={"EVENT_SCHEMA_VALIDATION": {"ENABLED": True, "SCHEMA_DIR": "avro"}},
    ):
        messages = [m for m in check_eventsourcing() if m.id == "toolkit.E112"]
    about = [m.msg for m in messages if "Animal" in m.msg or "Dog" in m.msg]
    assert about == ["Event 'dog_created' of aggregate 'Dog' has no schema."]
    assert "Animal" not in aggregates
    assert Dog.Created.event_type == "dog_created"


def write_schema(directory: Path, aggregate: str, event: str, version: int, body: Any) -> Path:
    folder = directory / aggregate
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"v{version}_{aggregate}_{event}.json"
    path.write_text(json.dumps(body))
    return path


# The README's schema, without its trailing comma (as printed it is not valid JSON).
TODO_CREATED_SCHEMA = {
    "name": "todo_created",
    "type": "record",
    "doc": "Sample Event",
    "fields": [
        {"name": "entity_id", "type": "string", "doc": "ID of a the asset."},
        {"name": "entity_version", "type": "long", "doc": "Aggregate revision"},
        {"name": "domain_event_id", "type": "string", "doc": "ID of the last modifying event"},
        {"name": "label", "type": "string"},
    ],
}


def test_readme_avro_schema_block_validates_store_event(tmp_path: Path) -> None:
    from toolkit.eventsourcing import store_event

    Todo = define_todo()
    write_schema(tmp_path, "todo", "created", 1, TODO_CREATED_SCHEMA)
    schemas = SchemaRegistry.from_dirs([tmp_path], require_schemas=True)
    assert schemas.problems == []
    store = EventStore(MemoryEventStoreBackend(), schemas=schemas, validate=True)

    store_event(Todo.Created(entity_id="t1", label="ok"), store=store)
    with pytest.raises(SchemaValidationError) as excinfo:
        store_event(Todo.Created(entity_id="t2", label=42), store=store)
    assert excinfo.value.field == "label"
    with pytest.raises(SchemaValidationError, match="no schema file for 'todo/changed_label'"):
        store_event(Todo.ChangedLabel(entity_id="t1", entity_version=1, label="x"), store=store)
    assert [e.aggregate_id for e in store.backend.read_all()] == ["t1"]


def test_readme_event_version_block_version_comes_from_the_highest_file(tmp_path: Path) -> None:
    from toolkit.eventsourcing import store_event

    Todo = define_todo()
    write_schema(tmp_path, "todo", "created", 1, TODO_CREATED_SCHEMA)
    write_schema(tmp_path, "todo", "created", 2, TODO_CREATED_SCHEMA)
    (tmp_path / "src").mkdir()
    with override_settings(
        BASE_DIR=tmp_path / "src",
        DJANGOEVENTS_CONFIG={"EVENT_SCHEMA_VALIDATION": {"SCHEMA_DIR": str(tmp_path)}},
    ):
        config.apply_event_versions()
        assert Todo.Created.version == 2
        assert Todo.ChangedLabel.version == 1
        store = EventStore(MemoryEventStoreBackend(), schemas=config.schema_registry())
        stored = store_event(Todo.Created(entity_id="t1", label="x"), store=store)
    assert stored.event_version == stored.schema_version == 2


def test_readme_adds_schema_version_block_puts_it_in_the_data(store: EventStore) -> None:
    from toolkit.eventsourcing import store_event

    Todo = define_todo()
    with override_settings(DJANGOEVENTS_CONFIG={"ADDS_SCHEMA_VERSION_TO_EVENT_DATA": True}):
        event = Todo.Created(entity_id="t1", label="x")
        assert event.schema_version == 1
        assert Todo.Created(entity_id="t2", label="x", schema_version=3).schema_version == 3
        store = EventStore(MemoryEventStoreBackend())
        stored = store_event(event, store=store)
    assert stored.payload == {"label": "x", "schema_version": 1}
    assert not hasattr(Todo.Created(entity_id="t3", label="x"), "schema_version")


# -- published behaviour ------------------------------------------------------------------


def test_domain_event_envelope_defaults_and_read_only_attributes() -> None:
    Todo = define_todo()
    event = Todo.Created(entity_id="t1", label="x")
    assert (event.entity_id, event.entity_version, event.label) == ("t1", 0, "x")
    assert len(event.domain_event_id) == 32  # uuid1().hex, as eventsourcing 1.2
    with pytest.raises(AttributeError, match="DomainEvent attributes are read-only"):
        event.label = "y"
    assert event == Todo.Created(entity_id="t1", label="x", domain_event_id=event.domain_event_id)
    assert repr(event).startswith(f"{Todo.Created.__qualname__}(")
    assert "label='x'" in repr(event)


def test_base_aggregate_requires_mutate_event() -> None:
    # djangoevents' test_base_entity_requires_mutator
    Todo = define_todo()

    class Closed(face.DomainEvent):
        pass

    todo = Todo.mutate(event=Todo.Created(entity_id="t1", label="x"))
    with pytest.raises(NotImplementedError, match="does not provide a mutate_event"):
        Todo.mutate(aggregate=todo, event=Closed(entity_id="t1", entity_version=1))


def test_base_aggregate_mutate_calls_the_mutator_and_counts_versions() -> None:
    Todo = define_todo()
    todo = Todo.mutate(event=Todo.Created(entity_id=1, label="a"))
    todo = Todo.mutate(
        entity=todo, event=Todo.ChangedLabel(entity_id=1, entity_version=1, label="b")
    )
    assert (todo.version, todo.label) == (2, "b")
    with pytest.raises(face.EntityIDConsistencyError, match="Entity ID 1 not equal"):
        Todo.mutate(todo, Todo.ChangedLabel(entity_id=2, entity_version=2, label="c"))


def test_create_for_event_builds_from_the_envelope() -> None:
    Todo = define_todo()
    event = Todo.Created(entity_id="ENTITY_ID", domain_event_id="DOMAIN_EVENT_ID", label="x")
    obj = Todo.create_for_event(event)
    assert (obj.id, obj.version) == ("ENTITY_ID", 0)


def test_event_sourced_entity_mutators_change_attributes_and_discard(store: EventStore) -> None:
    from toolkit.eventsourcing import EventSourcedEntity, EventSourcingWithDjango, store_event

    class Note(EventSourcedEntity):
        pass

    store_event(Note.Created(entity_id="n1", text="hi"), store=store)
    store_event(
        Note.AttributeChanged(entity_id="n1", entity_version=1, name="text", value="ho"),
        store=store,
    )
    repo = EventSourcingWithDjango(event_store=store).get_repo_for_aggregate(Note)
    assert (repo["n1"].text, repo["n1"].version) == ("ho", 2)
    store_event(Note.Discarded(entity_id="n1", entity_version=2), store=store)
    assert "n1" not in repo
    with pytest.raises(KeyError) as excinfo:
        repo["n1"]
    assert str(excinfo.value) == "Note with id 'n1' does not exist"


def test_entity_mutator_is_a_singledispatch_open_for_new_events() -> None:
    from toolkit.eventsourcing import EventSourcedEntity, entity_mutator

    class Counter(EventSourcedEntity):
        class Incremented(face.DomainEvent):
            pass

    @entity_mutator.register(Counter.Incremented)
    def _(event: Any, entity: Any) -> Any:
        entity.count = getattr(entity, "count", 0) + event.by
        entity._increment_version()
        return entity

    counter = Counter.mutate(event=Counter.Created(entity_id="c"))
    counter = Counter.mutate(counter, Counter.Incremented(entity_id="c", entity_version=1, by=2))
    assert (counter.count, counter.version) == (2, 2)
    with pytest.raises(NotImplementedError, match="Event type not supported"):
        entity_mutator(object(), counter)


def test_store_event_checks_the_entity_version_like_a_unique_constraint(store: EventStore) -> None:
    from toolkit.eventsourcing import store_event

    Todo = define_todo()
    store_event(Todo.Created(entity_id="t1", label="x"), store=store)
    with pytest.raises(ConcurrencyConflict):
        store_event(Todo.Created(entity_id="t1", label="again"), store=store)
    assert len(store.load("t1")) == 1


def test_store_event_refuses_events_without_a_concrete_aggregate(store: EventStore) -> None:
    from toolkit.eventsourcing import BaseAggregate, store_event

    with pytest.raises(ValidationError) as excinfo:
        store_event(BaseAggregate.Created(entity_id="x"), store=store)
    assert excinfo.value.args[0] == (
        "BaseAggregate.Created is not an event of a concrete aggregate: define it inside a "
        "BaseAggregate subclass that is not @abstract"
    )
    with pytest.raises(ValidationError, match="store_event\\(\\) takes a DomainEvent"):
        store_event({}, store=store)  # type: ignore[arg-type]


def test_subscribe_predicates_and_unsubscribe(store: EventStore) -> None:
    from toolkit.eventsourcing import store_event, subscribe, unsubscribe

    Todo = define_todo()
    seen: list[str] = []

    def handler(event: Any) -> None:
        seen.append(type(event).__name__)

    def is_created(event: Any) -> bool:
        return isinstance(event, Todo.Created)

    def has_label(event: Any) -> bool:
        return hasattr(event, "label")

    subscribe(is_created, handler)
    subscribe(has_label, handler)
    store_event(Todo.Created(entity_id="t1", label="x"), store=store)
    assert seen == ["Created"]  # once, though both predicates match
    unsubscribe(is_created, handler)
    store_event(Todo.ChangedLabel(entity_id="t1", entity_version=1, label="y"), store=store)
    assert seen == ["Created", "ChangedLabel"]
    unsubscribe(has_label, handler)
    unsubscribe(has_label, handler)  # unknown pair: ignored
    store.append("other", "Other", "Other.Thing", {})  # not a djangoevents event: not delivered
    store_event(Todo.ChangedLabel(entity_id="t1", entity_version=2, label="z"), store=store)
    assert seen == ["Created", "ChangedLabel"]
    assert handler_registry.handlers_for("todo_created") == []


def test_subscribe_to_a_base_class_receives_subclass_events(store: EventStore) -> None:
    from toolkit.eventsourcing import BaseAggregate, store_event, subscribe_to

    Todo = define_todo()
    seen: list[Any] = []
    subscribe_to(BaseAggregate.Created)(seen.append)
    store_event(Todo.Created(entity_id="t1", label="x"), store=store)
    assert [type(e) for e in seen] == [Todo.Created]


def test_subscribe_to_core_event_types_still_receives_stored_events(store: EventStore) -> None:
    from toolkit.eventsourcing import StoredEvent, subscribe_to

    seen: list[StoredEvent] = []
    subscribe_to("Plain.Happened")(seen.append)
    store.append("p1", "Plain", "Plain.Happened", {"a": 1})
    assert [e.payload for e in seen] == [{"a": 1}]


def test_djangoevents_config_unknown_key_is_refused() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with (
        override_settings(DJANGOEVENTS_CONFIG={"EVENT_SCHEMA_VALIDATON": {}}),
        pytest.raises(ImproperlyConfigured) as excinfo,
    ):
        config.es_settings()
    assert excinfo.value.args == (
        "Unknown key 'EVENT_SCHEMA_VALIDATON' in DJANGOEVENTS_CONFIG; valid keys are: "
        "'ADDS_SCHEMA_VERSION_TO_EVENT_DATA', 'EVENT_SCHEMA_VALIDATION'.",
    )


def test_toolkit_keys_win_over_djangoevents_config() -> None:
    with override_settings(
        DJANGOEVENTS_CONFIG={"ADDS_SCHEMA_VERSION_TO_EVENT_DATA": True},
        TOOLKIT={"eventsourcing": {"add_schema_version": False}},
    ):
        assert config.es_settings()["add_schema_version"] is False
    with override_settings(DJANGOEVENTS_CONFIG={"ADDS_SCHEMA_VERSION_TO_EVENT_DATA": True}):
        assert config.es_settings()["add_schema_version"] is True


def test_repository_needs_a_domain_class(store: EventStore) -> None:
    with pytest.raises(TypeError, match="domain_class must be an EventSourcedEntity"):
        face.EventSourcedRepository(event_store=store)


def test_get_repo_for_aggregate_does_not_warn(store: EventStore) -> None:
    Todo = define_todo()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        repo = face.EventSourcingWithDjango(event_store=store).get_repo_for_aggregate(Todo)
    assert type(repo).__name__ == "TodoRepository"
    assert repo.get_entity("missing") is None


def test_register_alias_refuses_an_unknown_section() -> None:
    from toolkit.conf import register_alias

    with pytest.raises(ValueError) as excinfo:
        register_alias("OTHER_CONFIG", "nope", dict)
    assert excinfo.value.args == (
        "Unknown TOOLKIT section 'nope'; valid sections are: 'admin', 'cqrs', "
        "'eventsourcing', 'outbox', 'patterns', 'sqlite'.",
    )
