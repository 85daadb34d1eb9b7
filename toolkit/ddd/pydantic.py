"""DDD building blocks on pydantic models (dddkit's ``dddkit.pydantic``); needs the extra.

``pip install "django-pattern-toolkit[pydantic]"``. Without pydantic, importing this module
raises :class:`~toolkit.ddd.exceptions.MissingDependencyError` (an ``ImportError``) naming that
command.

Example::

    class Basket(Aggregate):
        basket_id: int
        items: dict[int, Product] = Field(default_factory=dict)

        class Created(AggregateEvent):
            pass
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from toolkit.core.aggregate import ENVELOPE_FIELDS, EventEnvelope, new_event_id, utcnow
from toolkit.ddd.broker import EventBroker
from toolkit.ddd.changes import ChangesHandler
from toolkit.ddd.exceptions import ImmutableValueObject, MissingDependencyError
from toolkit.ddd.mixins import EventRecorder, IdentityEquality
from toolkit.ddd.repository import Repository

try:
    from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
except ImportError as exc:  # pragma: no cover - exercised by a test that hides pydantic
    raise MissingDependencyError("pydantic", extra="pydantic") from exc

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


class DomainEvent(EventEnvelope, BaseModel):
    """A fact that happened in the domain (frozen): dddkit's ``version``, ``id`` and
    ``occurred_on`` (the core's :class:`EventEnvelope`); equal by data, as the dataclasses
    flavour."""

    model_config = ConfigDict(frozen=True)

    version: int = 1
    id: uuid.UUID = Field(default_factory=new_event_id)
    occurred_on: datetime = Field(default_factory=utcnow)

    def __eq__(self, other: object) -> bool:
        # Two events are the same fact when their data match; the id and time differ.
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, DomainEvent)
        skip = set(ENVELOPE_FIELDS)
        return bool(self.model_dump(exclude=skip) == other.model_dump(exclude=skip))

    def __hash__(self) -> int:
        # Consistent with __eq__: the data, not the id or the time.
        data = self.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))
        return hash((type(self).__qualname__, repr(data)))


class AggregateEvent(DomainEvent):
    """An event recorded by an aggregate (usually a nested class of the aggregate)."""


class ValueObject(BaseModel):
    """A value without identity: equal by value, hashable, immutable."""

    model_config = ConfigDict(frozen=True)

    def __setattr__(self, name: str, value: Any) -> None:
        raise ImmutableValueObject(type(self).__name__, name)

    def __delattr__(self, name: str) -> None:
        raise ImmutableValueObject(type(self).__name__, name)


class Entity(IdentityEquality, BaseModel):
    """An object with identity: equal when the identity fields are (see the dataclasses one)."""

    model_config = ConfigDict(validate_assignment=True)

    identity: ClassVar[str | None] = None


class Aggregate(Entity, EventRecorder[DomainEvent]):
    """The root entity of a consistency boundary; it records domain events."""

    _events: list[DomainEvent] = PrivateAttr(default_factory=list)
