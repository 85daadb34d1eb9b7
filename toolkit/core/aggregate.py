"""The one aggregate and domain-event core: identity, recorded events, version.

Every aggregate of the toolkit builds on this module; the faces add their own API on top:

* :class:`toolkit.eventsourcing.Aggregate` (and djangoevents' ``EventSourcedEntity``):
  :class:`VersionedEventRecorder` — ``trigger`` applies an event and records it, ``version``
  counts it, the repository appends the pending events at
  :attr:`~VersionedEventRecorder.persisted_version`;
* :class:`toolkit.ddd.Aggregate` and :class:`toolkit.ddd.pydantic.Aggregate` (dddkit):
  :class:`IdentityEquality` and :class:`EventRecorder` — ``add_event`` records, a changes
  handler collects; their ``DomainEvent`` classes take :class:`EventEnvelope`,
  :func:`new_event_id` and :func:`utcnow`.

What stays in a face is what differs: an event-sourced aggregate's events apply themselves
and are replayed on load, a DDD aggregate's events are only recorded; dataclasses and pydantic
declare fields their own way. Nothing here declares fields or class-level annotations, so the
mixins fit dataclasses, pydantic models and plain classes alike. Pure Python, no Django.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from toolkit.core.exceptions import ValidationError

__all__ = [
    "ENVELOPE_FIELDS",
    "EventEnvelope",
    "EventRecorder",
    "IdentityEquality",
    "VersionedEventRecorder",
    "field_names",
    "identity_field_of",
    "new_event_id",
    "utcnow",
]

EventT = TypeVar("EventT")

#: The fields of a domain event that are its envelope, not its data: they differ for every
#: event, so two events with the same data are the same fact (left out of ``==`` and ``hash``).
ENVELOPE_FIELDS = frozenset({"id", "occurred_on"})


def new_event_id() -> uuid.UUID:
    """A new event id: ``uuid7`` (time-ordered) where Python has it, else ``uuid4``, as dddkit."""
    factory = getattr(uuid, "uuid7", uuid.uuid4)
    event_id: uuid.UUID = factory()
    return event_id


def utcnow() -> datetime:
    """The time an event occurs: now, timezone-aware, in UTC."""
    return datetime.now(UTC)


class EventEnvelope:
    """What every domain event carries besides its data: ``id``, ``occurred_on`` and the
    ``version`` of its schema (declared as fields by the dataclasses and pydantic flavours)."""

    __slots__ = ()

    if TYPE_CHECKING:
        id: uuid.UUID
        occurred_on: datetime
        version: int

    @property
    def event_id(self) -> uuid.UUID:
        """The toolkit's earlier name for :attr:`id`."""
        return self.id


# -- identity ---------------------------------------------------------------------------------


def field_names(cls: type[Any]) -> list[str]:
    """Declared field names of a dataclass or pydantic model, in declaration order."""
    model_fields = getattr(cls, "model_fields", None)
    if isinstance(model_fields, dict):
        return [name for name in model_fields if not name.startswith("_")]
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
    return []


def identity_field_of(cls: type[Any]) -> str:
    """The identity field: ``cls.identity`` if set, else ``id``, else the first ``*_id`` field.

    Raises :class:`ValidationError` naming the class and its fields when there is none.
    """
    chosen = getattr(cls, "identity", None)
    names = field_names(cls)
    if chosen:
        if chosen not in names:
            raise ValidationError(
                f"{cls.__name__}.identity is {chosen!r}, which is not a field; "
                f"fields: {', '.join(repr(n) for n in names) or 'none'}",
                field="identity",
                value=chosen,
            )
        return str(chosen)
    if "id" in names:
        return "id"
    for name in names:
        if name.endswith("_id"):
            return name
    raise ValidationError(
        f"{cls.__name__} has no identity field: add an 'id' or '<name>_id' field or set "
        f"identity = '<field>'; fields: {', '.join(repr(n) for n in names) or 'none'}",
        field="identity",
    )


class IdentityEquality:
    """Equal when of the same type with the same identity value; hashed by it too."""

    __slots__ = ()

    @property
    def entity_id(self) -> Any:
        """The value of the identity field."""
        return getattr(self, identity_field_of(type(self)))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, IdentityEquality)
        return bool(self.entity_id == other.entity_id)

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, self.entity_id))


# -- recorded events --------------------------------------------------------------------------


class EventRecorder(Generic[EventT]):
    """Records events in ``self._events`` (the class creates that list) until collected.

    Each event is handed over once: :meth:`collect_events` returns the pending events and
    forgets them; a failed save leaves them pending.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        _events: list[EventT]

    def record_event(self, event: EventT) -> EventT:
        """Record ``event`` as pending and return it."""
        self._events.append(event)
        return event

    @property
    def pending_events(self) -> list[EventT]:
        """The recorded events not collected yet (a copy)."""
        return list(self._events)

    def collect_events(self) -> list[EventT]:
        """Return the pending events and forget them (each event is handed over once)."""
        events = list(self._events)
        self._events.clear()
        return events

    def clear_events(self) -> None:
        """Forget the pending events without handing them over."""
        self._events.clear()


class VersionedEventRecorder(EventRecorder[EventT]):
    """An event recorder whose ``version`` is the position of its last event, pending ones
    included: an event-sourced aggregate's stream head once its pending events are stored.

    The class sets ``version`` (0 for a new aggregate) and ``_events`` in ``__init__``.
    """

    version: int

    def record_event(self, event: EventT) -> EventT:
        """Record ``event`` and count it in :attr:`version`."""
        super().record_event(event)
        self.version += 1
        return event

    @property
    def persisted_version(self) -> int:
        """The version the pending events build on: the stream head expected when they are
        appended (optimistic concurrency)."""
        return self.version - len(self._events)
