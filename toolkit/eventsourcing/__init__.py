"""Event sourcing: aggregates, repository, handlers, projections, schemas, upcasting, replay.

Import the public API from here; the store facade is :class:`toolkit.patterns.EventStore`.
djangoevents' names (``BaseAggregate``, ``store_event``, ``subscribe_to``, ...) are here too,
see :mod:`toolkit.eventsourcing.djangoevents`.
Nothing in this package needs ``django.setup()`` at import time.
"""

from __future__ import annotations

from toolkit.eventsourcing.aggregate import Aggregate, AggregateEvent, abstract
from toolkit.eventsourcing.context import event_context
from toolkit.eventsourcing.djangoevents import (
    BaseAggregate,
    DomainEvent,
    EventSourcedEntity,
    EventSourcedRepository,
    EventSourcingWithDjango,
    entity_mutator,
    singledispatch,
    store_event,
    subscribe,
    subscribe_to,
    unsubscribe,
)
from toolkit.eventsourcing.repository import AggregateRepository
from toolkit.eventsourcing.store import EventStoreBackend, NewEvent, Snapshot, StoredEvent
from toolkit.eventsourcing.upcasting import upcaster

__all__ = [
    "Aggregate",
    "AggregateEvent",
    "AggregateRepository",
    "BaseAggregate",
    "DomainEvent",
    "EventSourcedEntity",
    "EventSourcedRepository",
    "EventSourcingWithDjango",
    "EventStoreBackend",
    "NewEvent",
    "Snapshot",
    "StoredEvent",
    "abstract",
    "entity_mutator",
    "event_context",
    "singledispatch",
    "store_event",
    "subscribe",
    "subscribe_to",
    "unsubscribe",
    "upcaster",
]
