"""djangoevents' API (0.14.1) as a face on the toolkit's event-sourcing core.

Every name of djangoevents' README imports from :mod:`toolkit.eventsourcing`::

    from toolkit.eventsourcing import (
        BaseAggregate, DomainEvent, EventSourcedEntity, EventSourcedRepository,
        EventSourcingWithDjango, abstract, entity_mutator, singledispatch,
        store_event, subscribe, subscribe_to, unsubscribe,
    )

Nothing here stores, loads or dispatches on its own:

* :class:`EventSourcedEntity` and :class:`BaseAggregate` are
  :class:`toolkit.eventsourcing.Aggregate` subclasses (registered, ``@abstract``, ``version``
  from the schema files), whose nested events are :class:`DomainEvent` (an
  :class:`~toolkit.eventsourcing.AggregateEvent` with djangoevents' envelope: ``entity_id``,
  ``entity_version``, ``domain_event_id``, ``metadata``);
* :func:`store_event` appends through :class:`toolkit.patterns.EventStore` (schema validation,
  ``schema_version``, concurrency check, handlers after commit);
* :class:`EventSourcedRepository` loads through
  :class:`~toolkit.eventsourcing.AggregateRepository`;
* :func:`subscribe` / :func:`subscribe_to` subscribe to the event-sourcing handlers of
  :mod:`toolkit.eventsourcing.handlers`, translating each stored event back into the
  :class:`DomainEvent` that was stored.

The differences from djangoevents, and why, are listed in ``docs/coming-from.md``.
"""

from __future__ import annotations

import re
import threading
import uuid
import warnings
from collections.abc import Callable
from functools import singledispatch
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from toolkit.core.exceptions import NotFound, PatternError, ValidationError
from toolkit.eventsourcing import handlers as _handlers
from toolkit.eventsourcing.aggregate import Aggregate, AggregateEvent, abstract
from toolkit.eventsourcing.config import store_or_default
from toolkit.eventsourcing.repository import AggregateRepository
from toolkit.eventsourcing.store import StoredEvent
from toolkit.registry import aggregates

if TYPE_CHECKING:
    from toolkit.eventsourcing.event_store import EventStore

__all__ = [
    "BaseAggregate",
    "DomainEvent",
    "EntityIDConsistencyError",
    "EventSourcedEntity",
    "EventSourcedRepository",
    "EventSourcingWithDjango",
    "RepositoryKeyError",
    "entity_mutator",
    "singledispatch",
    "store_event",
    "subscribe",
    "subscribe_to",
    "unsubscribe",
]

E = TypeVar("E", bound="EventSourcedEntity")
Predicate = Callable[["DomainEvent"], bool]
Subscriber = Callable[["DomainEvent"], Any]

#: The envelope fields of a :class:`DomainEvent`; everything else is its data (the payload).
ENVELOPE = ("entity_id", "entity_version", "domain_event_id", "metadata")


class EntityIDConsistencyError(PatternError):
    """Raised when an event of another entity is applied to an entity (eventsourcing's name)."""

    _fields = ("entity_id", "event_entity_id")

    def __init__(self, entity_id: Any, event_entity_id: Any) -> None:
        self.entity_id = entity_id
        self.event_entity_id = event_entity_id
        super().__init__(
            f"Entity ID {entity_id!r} not equal to event's entity ID {event_entity_id!r}"
        )


class RepositoryKeyError(NotFound, KeyError):
    """Raised by ``repo[entity_id]`` when the entity has no events (a ``KeyError``, as in
    eventsourcing, and the toolkit's ``NotFound``)."""

    def __str__(self) -> str:
        # KeyError would show the args tuple's repr; keep NotFound's sentence.
        return str(self.args[0]) if self.args else ""


def _snake(text: str) -> str:
    """djangoevents' ``camel_case_to_snake_case``: ``TodoChangedLabel`` -> ``todo_changed_label``"""

    def repl(match: re.Match[str]) -> str:
        sep = match.group().lower()
        return f"_{sep}" if match.start() > 0 else sep

    return re.sub(r"[A-Z][a-z]", repl, text).lower()


class DomainEvent(AggregateEvent):
    """An event with djangoevents' envelope; its other keyword arguments are its data.

    ``entity_id`` names the aggregate, ``entity_version`` is the aggregate's version *before*
    the event (0 for ``Created``), which :func:`store_event` uses as the expected version of
    the stream; ``domain_event_id`` defaults to a new hex UUID; ``metadata`` is stored in the
    event's metadata, not in its data. Attributes are read-only, as in eventsourcing.

    With ``ADDS_SCHEMA_VERSION_TO_EVENT_DATA`` (``TOOLKIT["eventsourcing"]
    ["add_schema_version"]``) a new event also carries ``schema_version`` (the class's
    ``version``) unless one is given.
    """

    def __init__(
        self,
        entity_id: Any = None,
        entity_version: int | None = None,
        domain_event_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        **data: Any,
    ) -> None:
        if "schema_version" not in data and _adds_schema_version():
            data["schema_version"] = type(self).version
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "entity_id", entity_id)
        object.__setattr__(self, "entity_version", entity_version)
        object.__setattr__(self, "domain_event_id", domain_event_id or uuid.uuid1().hex)
        object.__setattr__(self, "metadata", metadata)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("DomainEvent attributes are read-only")

    @classmethod
    def from_stored(cls, stored: StoredEvent) -> DomainEvent:
        """The event as it was stored: envelope from the stored event, data from its payload."""
        payload = dict(stored.payload)
        return cls(
            entity_id=stored.aggregate_id,
            entity_version=stored.sequence - 1,
            domain_event_id=str(stored.event_id),
            metadata=dict(stored.metadata) or None,
            **payload,
        )

    def apply(self, aggregate: Any) -> None:
        """Mutate ``aggregate`` through its class's ``mutate`` (the entity's routing)."""
        type(aggregate).mutate(aggregate, self)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, DomainEvent)
        return self._values() == other._values()

    __hash__ = None

    def _values(self) -> dict[str, Any]:
        return {**self.data, **{name: getattr(self, name) for name in ENVELOPE}}

    def __repr__(self) -> str:
        items = sorted(self._values().items())
        return f"{type(self).__qualname__}({', '.join(f'{k}={v!r}' for k, v in items)})"


def _adds_schema_version() -> bool:
    from django.conf import settings

    if not settings.configured:
        return False
    from toolkit.eventsourcing.config import es_settings

    return bool(es_settings()["add_schema_version"])


@abstract
class EventSourcedEntity(Aggregate):
    """eventsourcing's ``EventSourcedEntity``: events are routed to :func:`entity_mutator`.

    ``Created`` builds the entity from the event (``cls(**envelope, **data)``);
    ``AttributeChanged`` sets ``name`` to ``value``; ``Discarded`` marks it discarded.
    """

    class Created(DomainEvent):
        """The entity came into existence; its data become the entity's attributes."""

        def __init__(self, entity_version: int | None = 0, **kwargs: Any) -> None:
            super().__init__(entity_version=entity_version, **kwargs)

    class AttributeChanged(DomainEvent):
        """Attribute ``name`` took ``value``."""

    class Discarded(DomainEvent):
        """The entity was discarded."""

    def __init__(
        self,
        entity_id: Any = None,
        entity_version: int | None = 0,
        domain_event_id: str | None = None,
        **attributes: Any,
    ) -> None:
        # Unlike eventsourcing's, extra keyword arguments become attributes, so that a
        # Created event's data build the entity without a hand-written __init__ (the
        # djangoevents README's Todo relies on it).
        super().__init__(entity_id)
        self.version = entity_version if entity_version is not None else 0
        self._initial_event_id = domain_event_id
        self._is_discarded = False
        for name, value in attributes.items():
            setattr(self, name, value)

    @classmethod
    def event_type_for(cls, event_name: str) -> str:
        # djangoevents' stored event type: "<aggregate><Event>" in snake case, "todo_created".
        return _snake(f"{cls.aggregate_type}{event_name}")

    @property
    def entity_version(self) -> int:
        """eventsourcing's name for :attr:`version`."""
        return self.version

    def _increment_version(self) -> None:
        self.version += 1

    def _validate_originator(self, event: DomainEvent) -> None:
        if self.id != event.entity_id:
            raise EntityIDConsistencyError(self.id, event.entity_id)

    @classmethod
    def mutate(cls, entity: Any = None, event: DomainEvent | None = None, **kwargs: Any) -> Any:
        """Apply ``event`` to ``entity`` (or, for ``Created``, to the class) and return the
        entity (None once discarded). djangoevents spells ``entity`` ``aggregate``."""
        entity = _entity_argument(entity, kwargs)
        return entity_mutator(event, entity if entity is not None else cls)

    def apply_stored(self, event_type: str, payload: dict[str, Any], sequence: int) -> None:
        """Rebuild the stored event and apply it through :meth:`mutate` (loading).

        ``Created`` builds a new instance from the class; the repository already built this
        one, so its state is copied over. An event type the class does not know is skipped,
        as in the core.
        """
        event_class = type(self).event_classes.get(event_type)
        if event_class is None or not issubclass(event_class, DomainEvent):
            self.version = sequence
            return
        event = event_class(entity_id=self.id, entity_version=sequence - 1, **payload)
        result = type(self).mutate(self if sequence > 1 else None, event)
        if result is not None and result is not self:
            vars(self).update({k: v for k, v in vars(result).items() if k != "_events"})
        self.version = sequence


def _entity_argument(entity: Any, kwargs: dict[str, Any]) -> Any:
    # eventsourcing's mutate(entity=..., event=...) is djangoevents' mutate(aggregate=...).
    aggregate = kwargs.pop("aggregate", None)
    if kwargs:
        raise TypeError(f"mutate() got unexpected keyword arguments {sorted(kwargs)!r}")
    return aggregate if aggregate is not None else entity


@singledispatch
def entity_mutator(event: Any, _: Any) -> Any:
    """eventsourcing's ``entity_mutator``: register a function per event class with
    ``@entity_mutator.register(MyEntity.Happened)``."""
    raise NotImplementedError(f"Event type not supported: {type(event)}")


@entity_mutator.register(EventSourcedEntity.Created)
def _created_mutator(event: EventSourcedEntity.Created, cls: Any) -> Any:
    if not isinstance(cls, type):
        raise ValidationError(
            f"Mutator for Created event requires entity type not instance: {type(cls)} "
            f"(event entity id: {event.entity_id!r}, event type: {type(event).__qualname__})",
            value=cls,
        )
    entity = cls(
        entity_id=event.entity_id,
        entity_version=event.entity_version,
        domain_event_id=event.domain_event_id,
        **event.data,
    )
    entity._increment_version()
    return entity


@entity_mutator.register(EventSourcedEntity.AttributeChanged)
def _attribute_changed_mutator(event: EventSourcedEntity.AttributeChanged, entity: Any) -> Any:
    entity._validate_originator(event)
    setattr(entity, event.name, event.value)
    entity._increment_version()
    return entity


@entity_mutator.register(EventSourcedEntity.Discarded)
def _discarded_mutator(event: EventSourcedEntity.Discarded, entity: Any) -> None:
    entity._validate_originator(event)
    entity._is_discarded = True
    entity._increment_version()
    return None


@abstract
class BaseAggregate(EventSourcedEntity):
    """djangoevents' ``BaseAggregate``: each event applies itself with ``mutate_event``.

    .. code-block:: python

        class Todo(BaseAggregate):
            class Created(BaseAggregate.Created):
                def mutate_event(self, event, cls):
                    return cls(entity_id=event.entity_id, entity_version=event.entity_version,
                               domain_event_id=event.domain_event_id, label=event.label)

            class ChangedLabel(BaseAggregate.AttributeChanged):
                def mutate_event(self, event, instance):
                    instance.label = event.label
                    return instance
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # As djangoevents lists an aggregate's events: only those that can apply themselves
        # (the inherited AttributeChanged / Discarded have no mutate_event) need a schema.
        cls.event_classes = {
            event_type: event_cls
            for event_type, event_cls in cls.event_classes.items()
            if callable(getattr(event_cls, "mutate_event", None))
        }

    @classmethod
    def is_abstract_class(cls) -> bool:
        """Whether the class was marked ``@abstract`` (djangoevents' name)."""
        return bool(cls.__dict__.get("abstract", False))

    @classmethod
    def mutate(cls, entity: Any = None, event: DomainEvent | None = None, **kwargs: Any) -> Any:
        """Apply ``event`` through its ``mutate_event(event, aggregate_or_class)`` and count
        the version up; an event without ``mutate_event`` raises NotImplementedError."""
        aggregate = _entity_argument(entity, kwargs)
        if aggregate is not None:
            aggregate._validate_originator(event)
        mutate_event = getattr(event, "mutate_event", None)
        if mutate_event is None:
            raise NotImplementedError(f"{type(event)} does not provide a mutate_event() method.")
        aggregate = mutate_event(event, aggregate if aggregate is not None else cls)
        aggregate._increment_version()
        return aggregate

    @classmethod
    def create_for_event(cls, event: DomainEvent) -> Any:
        """A new aggregate with the event's envelope (djangoevents' helper for ``Created``)."""
        return cls(
            entity_id=event.entity_id,
            domain_event_id=event.domain_event_id,
            entity_version=event.entity_version,
        )


# -- storing ----------------------------------------------------------------------------


def store_event(
    event: DomainEvent, force_validate: bool = False, *, store: EventStore | None = None
) -> StoredEvent:
    """Store ``event`` in the event store (djangoevents' ``store_event``) and return it as stored.

    The event's ``entity_version`` is the expected version of the stream, so a second
    ``Created`` of the same id, or an event built on a stale version, raises
    ``ConcurrencyConflict`` and writes nothing. With schema validation on
    (``DJANGOEVENTS_CONFIG["EVENT_SCHEMA_VALIDATION"]["ENABLED"]``) or ``force_validate=True``
    the event must match its schema, else ``SchemaValidationError`` is raised. Handlers
    subscribed to the event run after the transaction commits.
    """
    if not isinstance(event, DomainEvent):
        raise ValidationError(
            f"store_event() takes a DomainEvent, not {event!r}", field="event", value=event
        )
    aggregate_class = type(event).aggregate_class
    if aggregate_class is None or aggregate_class.abstract:
        raise ValidationError(
            f"{type(event).__qualname__} is not an event of a concrete aggregate: define it "
            f"inside a BaseAggregate subclass that is not @abstract",
            field="event",
            value=event,
        )
    if event.entity_id is None:
        raise ValidationError(
            f"{type(event).__qualname__} has no entity_id", field="entity_id", value=event
        )
    return store_or_default(store).append(
        str(event.entity_id),
        aggregate_class.aggregate_type,
        type(event).event_type,
        event.data,
        event.entity_version,
        metadata=event.metadata,
        force_validate=force_validate,
    )


class EventSourcedRepository(Generic[E]):
    """Loads entities of ``domain_class`` (set it on a subclass) by id: ``repo[entity_id]``.

    ``event_store`` defaults to the project's ``EventStore()``. Loading is
    :class:`~toolkit.eventsourcing.AggregateRepository`'s (snapshots included).
    """

    domain_class: ClassVar[type[Any]]

    def __init__(self, event_store: EventStore | None = None, **kwargs: Any) -> None:
        domain_class = getattr(type(self), "domain_class", None)
        if not (isinstance(domain_class, type) and issubclass(domain_class, Aggregate)):
            raise TypeError(
                f"{type(self).__name__}.domain_class must be an EventSourcedEntity / "
                f"BaseAggregate subclass, not {domain_class!r}"
            )
        self.event_store = store_or_default(event_store)
        self._repository: AggregateRepository[Any] = AggregateRepository(
            domain_class, self.event_store
        )

    def get_entity(self, entity_id: Any) -> Any | None:
        """The entity at its latest version, or None when it has no events or is discarded."""
        entity = self._repository.get(str(entity_id))
        if entity is None or getattr(entity, "_is_discarded", False):
            return None
        return entity

    def __getitem__(self, entity_id: Any) -> Any:
        entity = self.get_entity(entity_id)
        if entity is None:
            raise RepositoryKeyError(self.domain_class.__name__, entity_id)
        return entity

    def __contains__(self, entity_id: Any) -> bool:
        return self.get_entity(entity_id) is not None


class EventSourcingWithDjango:
    """djangoevents' application: the project's event store and a repository per aggregate.

    Override :meth:`on_init` to build the repositories the application uses.
    """

    def __init__(self, event_store: EventStore | None = None, **kwargs: Any) -> None:
        self.event_store = store_or_default(event_store)
        self.on_init()

    def on_init(self) -> None:
        """Called at the end of ``__init__``; override it to set up repositories."""

    def get_repo_for_aggregate(self, aggregate_cls: type[E]) -> EventSourcedRepository[E]:
        """An :class:`EventSourcedRepository` of ``aggregate_cls`` on this application's store."""
        repo_cls = type(
            f"{aggregate_cls.__name__}Repository",
            (EventSourcedRepository,),
            {"domain_class": aggregate_cls},
        )
        repository: EventSourcedRepository[E] = repo_cls(event_store=self.event_store)
        return repository

    def get_repo_for_entity(self, entity_cls: type[E]) -> EventSourcedRepository[E]:
        """Deprecated in djangoevents (it warns, as there): use :meth:`get_repo_for_aggregate`."""
        warnings.warn(
            "`get_repo_for_entity` is depreciated. Please switch to: `get_repo_for_aggregate`",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.get_repo_for_aggregate(entity_cls)

    def close(self) -> None:
        """Nothing to release (kept for eventsourcing's application API)."""


# -- subscribing ------------------------------------------------------------------------

_lock = threading.Lock()
# One delivery function on the core handlers per subscriber, holding its predicates, so a
# subscriber whose several predicates match an event gets it once (as eventsourcing's publish).
_deliveries: dict[Subscriber, tuple[list[Predicate], _handlers.Handler]] = {}


def domain_event_of(stored: StoredEvent) -> DomainEvent | None:
    """The :class:`DomainEvent` a stored event was, or None for events of other aggregates."""
    if stored.aggregate_type not in aggregates:
        return None
    event_class = aggregates.get(stored.aggregate_type).event_classes.get(stored.event_type)
    if event_class is None or not issubclass(event_class, DomainEvent):
        return None
    event: DomainEvent = event_class.from_stored(stored)
    return event


def subscribe(event_predicate: Predicate, subscriber: Subscriber) -> None:
    """Call ``subscriber(event)`` for every stored :class:`DomainEvent` that
    ``event_predicate(event)`` accepts (eventsourcing's ``subscribe``)."""
    with _lock:
        entry = _deliveries.get(subscriber)
        if entry is None:
            predicates: list[Predicate] = []

            def deliver(stored: StoredEvent) -> None:
                event = domain_event_of(stored)
                if event is not None and any(p(event) for p in list(predicates)):
                    subscriber(event)

            deliver.__qualname__ = getattr(subscriber, "__qualname__", repr(subscriber))
            entry = _deliveries[subscriber] = (predicates, deliver)
            _handlers.subscribe(deliver, _handlers.ANY_EVENT)
        entry[0].append(event_predicate)


def unsubscribe(event_predicate: Predicate, subscriber: Subscriber) -> None:
    """Undo one :func:`subscribe`; unknown pairs are ignored."""
    with _lock:
        entry = _deliveries.get(subscriber)
        if entry is None or event_predicate not in entry[0]:
            return
        entry[0].remove(event_predicate)
        if not entry[0]:
            del _deliveries[subscriber]
            _handlers.unsubscribe(entry[1], _handlers.ANY_EVENT)


def subscribe_to(*targets: Any) -> Callable[[Any], Any]:
    """Decorator: call the function with every stored event of the given event classes.

    For :class:`DomainEvent` classes (djangoevents) the function receives the domain event,
    and subclasses match too (``isinstance``); for other event classes or event type names it
    receives the :class:`~toolkit.eventsourcing.StoredEvent`
    (:func:`toolkit.eventsourcing.handlers.subscribe_to`).
    """
    if targets and all(isinstance(t, type) and issubclass(t, DomainEvent) for t in targets):
        classes = tuple(targets)

        def decorate(func: Subscriber) -> Subscriber:
            subscribe(lambda event: isinstance(event, classes), func)
            return func

        return decorate
    return _handlers.subscribe_to(*targets)
