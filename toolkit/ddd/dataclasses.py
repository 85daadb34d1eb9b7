"""DDD building blocks on the standard library's dataclasses (dddkit's ``dddkit.dataclasses``).

Subclasses become dataclasses on their own (keyword-only fields); decorating them with
``@dataclass(kw_only=True)`` as dddkit's README does works too.

* :class:`ValueObject`: no identity, equal by value, immutable (assigning raises
  :class:`ImmutableValueObject` naming the attribute).
* :class:`Entity`: equal by identity: the ``identity`` field (by default ``id``, else the first
  field whose name ends in ``_id``); other attributes may differ.
* :class:`Aggregate`: the root entity; records domain events with :meth:`Aggregate.add_event`,
  hands them over once with :meth:`Aggregate.collect_events`.
* :class:`AggregateEvent` / :class:`DomainEvent`: frozen event records.

Example::

    @dataclass(kw_only=True)
    class Basket(Aggregate):
        basket_id: int

        @dataclass(frozen=True, kw_only=True)
        class Created(AggregateEvent):
            pass

        @classmethod
        def new(cls, basket_id: int) -> Basket:
            basket = cls(basket_id=basket_id)
            basket.add_event(cls.Created())
            return basket
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any, ClassVar, dataclass_transform

from toolkit.core.aggregate import EventEnvelope, new_event_id, utcnow
from toolkit.ddd.broker import EventBroker
from toolkit.ddd.changes import ChangesHandler
from toolkit.ddd.exceptions import ImmutableValueObject
from toolkit.ddd.mixins import EventRecorder, IdentityEquality
from toolkit.ddd.repository import Repository

__all__ = [
    "Aggregate",
    "AggregateEvent",
    "ChangesHandler",
    "DomainEvent",
    "Entity",
    "EventBroker",
    "Repository",
    "ValueObject",
]


def _drop_frozen_setters(cls: type[Any]) -> None:
    # The frozen dataclass machinery writes its own __setattr__/__delattr__ into the class;
    # dropping them lets ValueObject's clearer ones apply and lets a later
    # @dataclass(frozen=True) on the same class add its own without "Cannot overwrite".
    for name in ("__setattr__", "__delattr__"):
        if name in cls.__dict__:
            delattr(cls, name)


@dataclass_transform(
    kw_only_default=True, frozen_default=True, field_specifiers=(dataclasses.field,)
)
@dataclasses.dataclass(frozen=True, kw_only=True)
class DomainEvent(EventEnvelope):
    """A fact that happened in the domain: dddkit's ``version`` (of the event's schema, 1),
    ``id`` and the time it ``occurred_on`` (the core's :class:`EventEnvelope`).

    Unlike dddkit's, two events with the same data are equal: ``id`` and ``occurred_on`` are
    left out of ``==`` and ``hash`` (they differ for every event).
    """

    version: int = 1
    id: uuid.UUID = dataclasses.field(default_factory=new_event_id, compare=False, repr=False)
    occurred_on: datetime = dataclasses.field(default_factory=utcnow, compare=False, repr=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _drop_frozen_setters(cls)
        dataclasses.dataclass(frozen=True, kw_only=True)(cls)
        _drop_frozen_setters(cls)


def _event_setattr(self: DomainEvent, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(
        f"Cannot change attribute {name!r} of {type(self).__name__}: events are immutable"
    )


def _event_delattr(self: DomainEvent, name: str) -> None:
    _event_setattr(self, name, None)


# Set after the class exists: a frozen dataclass refuses a class that defines them itself.
DomainEvent.__setattr__ = _event_setattr  # type: ignore[method-assign,assignment]
DomainEvent.__delattr__ = _event_delattr  # type: ignore[method-assign,assignment]


class AggregateEvent(DomainEvent):
    """An event recorded by an aggregate (usually a nested class of the aggregate)."""


@dataclass_transform(
    kw_only_default=True, frozen_default=True, field_specifiers=(dataclasses.field,)
)
@dataclasses.dataclass(frozen=True, kw_only=True)
class ValueObject:
    """A value without identity: equal by value, hashable, immutable."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _drop_frozen_setters(cls)
        dataclasses.dataclass(frozen=True, kw_only=True)(cls)
        _drop_frozen_setters(cls)


def _value_setattr(self: ValueObject, name: str, value: Any) -> None:
    raise ImmutableValueObject(type(self).__name__, name)


def _value_delattr(self: ValueObject, name: str) -> None:
    raise ImmutableValueObject(type(self).__name__, name)


ValueObject.__setattr__ = _value_setattr  # type: ignore[method-assign,assignment]
ValueObject.__delattr__ = _value_delattr  # type: ignore[method-assign,assignment]


@dataclass_transform(kw_only_default=True, field_specifiers=(dataclasses.field,))
@dataclasses.dataclass(kw_only=True, eq=False)
class Entity(IdentityEquality):
    """An object with identity: two entities are equal when their identity fields are.

    Set ``identity = "sku"`` on the class to choose the field; by default it is ``id``, else
    the first field whose name ends in ``_id``.
    """

    identity: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Installed in the subclass itself so that a later @dataclass (eq=True by default)
        # keeps identity equality instead of generating a field-by-field __eq__.
        cls.__eq__ = Entity.__eq__  # type: ignore[method-assign]
        cls.__hash__ = Entity.__hash__  # type: ignore[method-assign]
        dataclasses.dataclass(kw_only=True, eq=False)(cls)


class Aggregate(Entity, EventRecorder[DomainEvent]):
    """The root entity of a consistency boundary; it records domain events.

    Events wait in the aggregate until a changes handler (or your code) takes them with
    :meth:`collect_events`, usually when the aggregate is saved.
    """

    _events: list[DomainEvent] = dataclasses.field(
        default_factory=list, init=False, repr=False, compare=False
    )
