"""Event-sourced aggregates whose nested event classes apply themselves (djangoevents style).

.. code-block:: python

    from toolkit.eventsourcing import Aggregate

    class Todo(Aggregate):
        snapshot_every = 50          # snapshot automatically every 50 events

        class Created(Aggregate.Event):
            def apply(self, todo):
                todo.label = self.label
                todo.done = False

        class Completed(Aggregate.Event):
            def apply(self, todo):
                todo.done = True

        def complete(self):
            if not self.done:
                self.trigger(Todo.Completed)

    todo = Todo.create("todo-1", Todo.Created, label="write docs")
    todo.complete()
    AggregateRepository(Todo).save(todo)

Every concrete subclass is registered in ``toolkit.registry.aggregates`` under its
``aggregate_type`` (default: the class name), so the panel and the replay helpers find it.
An event's type is ``"<aggregate_type>.<EventName>"`` unless the class sets ``event_type``.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from toolkit.core.aggregate import VersionedEventRecorder
from toolkit.core.exceptions import ValidationError
from toolkit.registry import aggregates

A = TypeVar("A", bound="Aggregate")


class AggregateEvent:
    """Base of an aggregate's events: keyword data, readable as attributes.

    Override :meth:`apply` to change the aggregate; it must not do I/O, because it runs
    again every time the aggregate is loaded.
    """

    #: The stored event type; set for nested classes by the aggregate.
    event_type: ClassVar[str] = ""
    #: The aggregate class the event belongs to.
    aggregate_class: ClassVar[type[Aggregate] | None] = None
    #: Current schema version (djangoevents' ``Event.version``), set at start-up from the
    #: schema files by :func:`toolkit.eventsourcing.config.apply_event_versions`.
    version: ClassVar[int] = 1

    def __init__(self, **data: Any) -> None:
        self.data = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}; its data has: "
                f"{', '.join(repr(k) for k in sorted(self.__dict__.get('data', {}))) or 'nothing'}"
            ) from None

    def apply(self, aggregate: Any) -> None:
        """Change ``aggregate`` to reflect this event (default: set each data key)."""
        for key, value in self.data.items():
            setattr(aggregate, key, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.data!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.data == self.data  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


def abstract(cls: type[A]) -> type[A]:
    """Class decorator: mark an aggregate abstract (djangoevents' ``@abstract``).

    Same as ``abstract = True`` in the class body: the class is not registered, needs no
    schema files, and each concrete subclass stores the inherited events under its own type.

    .. code-block:: python

        @abstract
        class Animal(Aggregate):
            class Created(Aggregate.Event): ...

        class Dog(Animal):  # stores "Dog.Created"
            pass
    """
    if not (isinstance(cls, type) and issubclass(cls, Aggregate)):
        raise TypeError(f"@abstract takes an Aggregate subclass, not {cls!r}")
    cls.abstract = True
    if cls.aggregate_type in aggregates and aggregates.get(cls.aggregate_type) is cls:
        aggregates.unregister(cls.aggregate_type)
    return cls


class Aggregate(VersionedEventRecorder[AggregateEvent]):
    """An aggregate rebuilt by applying its events in order.

    ``version`` is the sequence of the last applied event (0 for a new aggregate);
    ``pending_events`` are triggered but not saved yet (the core's
    :class:`~toolkit.core.aggregate.VersionedEventRecorder` records and counts them; this
    class adds the events that apply themselves). Snapshots hold :meth:`snapshot_state` (the
    public instance attributes); override it and :meth:`restore_state` for state that is not
    plain JSON data.
    """

    Event = AggregateEvent
    #: Stored aggregate type; default: the class name.
    aggregate_type: ClassVar[str] = ""
    #: Take a snapshot every N events (None: never).
    snapshot_every: ClassVar[int | None] = None
    #: Event classes by event type, collected from the class body.
    event_classes: ClassVar[dict[str, type[AggregateEvent]]] = {}
    #: Abstract aggregates are not registered (djangoevents' ``@abstract``).
    abstract: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "aggregate_type" not in cls.__dict__:
            cls.aggregate_type = cls.__name__
        if "abstract" not in cls.__dict__:
            # Not inherited (as djangoevents' mark): a subclass of an abstract aggregate is
            # concrete unless marked itself.
            cls.abstract = False
        # Inherited events by class name, the most derived base's winning (a base's
        # ``event_classes`` already replaced its own ancestors' events of the same name).
        by_name: dict[str, type[AggregateEvent]] = {}
        for base in reversed(cls.__mro__[1:]):
            for inherited in getattr(base, "event_classes", {}).values():
                by_name[inherited.__name__] = inherited
        for value in list(cls.__dict__.values()):
            if isinstance(value, type) and issubclass(value, AggregateEvent):
                if "event_type" not in value.__dict__ or not value.__dict__["event_type"]:
                    value.event_type = cls.event_type_for(value.__name__)
                value.aggregate_class = cls
                # An event defined here replaces an inherited one of the same name.
                by_name[value.__name__] = value
        events: dict[str, type[AggregateEvent]] = {}
        for name, event_cls in by_name.items():
            owner = event_cls.aggregate_class
            if owner is not None and owner is not cls and owner.abstract:
                # Inherited events of an abstract parent are stored under this type's name.
                own: type[AggregateEvent] = type(
                    name,
                    (event_cls,),
                    {"__module__": cls.__module__, "__qualname__": f"{cls.__qualname__}.{name}"},
                )
                own.event_type = cls.event_type_for(name)
                own.aggregate_class = cls
                setattr(cls, name, own)
                event_cls = own
            events[event_cls.event_type] = event_cls
        cls.event_classes = events
        snapshot_every = cls.__dict__.get("snapshot_every")
        if snapshot_every is not None and (
            not isinstance(snapshot_every, int) or snapshot_every < 1
        ):
            raise ValidationError(
                f"{cls.__name__}.snapshot_every must be None or a positive integer, "
                f"not {snapshot_every!r}",
                field="snapshot_every",
                value=snapshot_every,
            )
        if not cls.__dict__.get("abstract", False):
            aggregates.register(cls.aggregate_type, cls)

    @classmethod
    def event_type_for(cls, event_name: str) -> str:
        """The stored type of this aggregate's nested event class ``event_name``:
        ``"<aggregate_type>.<EventName>"``. Override to store other names (djangoevents'
        ``BaseAggregate`` stores ``"todo_created"``)."""
        return f"{cls.aggregate_type}.{event_name}"

    def __init__(self, id: str) -> None:
        self.id = id
        self.version = 0
        self._events: list[AggregateEvent] = []

    @classmethod
    def create(cls: type[A], id: str, event_class: type[AggregateEvent], **data: Any) -> A:
        """A new aggregate with its first event triggered."""
        aggregate = cls(id)
        aggregate.trigger(event_class, **data)
        return aggregate

    def trigger(self, event_class: type[AggregateEvent], **data: Any) -> AggregateEvent:
        """Create an event of ``event_class``, apply it, and keep it pending until saved."""
        if event_class.event_type not in type(self).event_classes:
            known = ", ".join(repr(t) for t in sorted(type(self).event_classes)) or "none"
            raise ValidationError(
                f"{event_class.__name__} is not an event of {type(self).__name__}; "
                f"its events: {known}",
                field="event_class",
                value=event_class,
            )
        event = event_class(**data)
        event.apply(self)
        return self.record_event(event)

    def apply_stored(self, event_type: str, payload: dict[str, Any], sequence: int) -> None:
        """Apply a stored event (loading); unknown event types are skipped."""
        event_class = type(self).event_classes.get(event_type)
        if event_class is not None:
            event_class(**payload).apply(self)
        self.version = sequence

    @property
    def pending_events(self) -> list[AggregateEvent]:
        """The triggered events not saved yet: the list itself, assignable, as this class has
        always published it (the DDD aggregates' ``pending_events`` is a copy)."""
        return self._events

    @pending_events.setter
    def pending_events(self, events: list[AggregateEvent]) -> None:
        self._events = list(events)

    def collect_pending(self) -> list[AggregateEvent]:
        """Return and forget the pending events (the repository calls this after saving);
        the core's :meth:`collect_events` under djangoevents-era name."""
        return self.collect_events()

    def snapshot_state(self) -> dict[str, Any]:
        """The state stored in snapshots: public instance attributes except the bookkeeping."""
        return {
            k: v
            for k, v in vars(self).items()
            if not k.startswith("_") and k not in {"id", "version"}
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Set the state of a snapshot back onto a fresh instance."""
        for key, value in state.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r} v{self.version}>"


def append_pending(
    store: Any, aggregate: Aggregate, aggregate_class: type[Any] | None = None
) -> Any:
    """Save an event-sourced aggregate: the one implementation behind
    :meth:`~toolkit.eventsourcing.repository.AggregateRepository.save` and
    :meth:`~toolkit.ddd.changes.ChangesHandler.save`.

    Appends the pending events in one batch, expecting the stream head at
    ``persisted_version`` (the store refuses with ``ConcurrencyConflict`` otherwise), forgets
    them, and stores a snapshot when the version crosses a multiple of ``snapshot_every``.
    ``store`` is an :class:`~toolkit.eventsourcing.event_store.EventStore` (or anything with
    its ``append_batch`` / ``save_snapshot``); returns what ``append_batch`` returned (``[]``
    when nothing was pending).
    """
    cls = aggregate_class or type(aggregate)
    pending = aggregate.pending_events
    if not pending:
        return []
    base = aggregate.persisted_version
    stored = store.append_batch(
        str(aggregate.id),
        cls.aggregate_type,
        [(type(event).event_type, event.data) for event in pending],
        expected_seq=base,
    )
    aggregate.collect_pending()
    every = cls.snapshot_every
    if every and base // every != aggregate.version // every:
        store.save_snapshot(
            str(aggregate.id),
            aggregate.snapshot_state(),
            aggregate.version,
            aggregate_type=cls.aggregate_type,
        )
    return stored
