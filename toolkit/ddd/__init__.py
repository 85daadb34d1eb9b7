"""DDD building blocks: Entity, ValueObject, Aggregate, domain events, EventBroker, Repository.

``toolkit.ddd`` is the dataclasses flavour (:mod:`toolkit.ddd.dataclasses`); the pydantic
flavour lives in :mod:`toolkit.ddd.pydantic` (``pip install "django-pattern-toolkit[pydantic]"``).
Both mirror dddkit's ``dddkit.dataclasses`` / ``dddkit.pydantic``. Pure Python: importing this
package needs no ``django.setup()``.

Example::

    from toolkit.ddd import Aggregate, AggregateEvent, EventBroker, ValueObject

    class OrderLine(ValueObject):
        orderid: str
        sku: str
        qty: int
"""

from __future__ import annotations

from toolkit.ddd.broker import Dispatched, EventBroker
from toolkit.ddd.changes import ChangesHandler, EventSourced
from toolkit.ddd.dataclasses import Aggregate, AggregateEvent, DomainEvent, Entity, ValueObject
from toolkit.ddd.exceptions import (
    ImmutableValueObject,
    MissingDependency,
    MissingDependencyError,
)
from toolkit.ddd.repository import Repository

__all__ = [
    "Aggregate",
    "AggregateEvent",
    "ChangesHandler",
    "Dispatched",
    "DomainEvent",
    "Entity",
    "EventBroker",
    "EventSourced",
    "ImmutableValueObject",
    "MissingDependency",
    "MissingDependencyError",
    "Repository",
    "ValueObject",
]
