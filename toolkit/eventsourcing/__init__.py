"""Event sourcing: aggregates, repository, handlers, projections, schemas, upcasting, replay.

Import the public API from here; the store facade is :class:`toolkit.patterns.EventStore`.
Nothing in this package needs ``django.setup()`` at import time.
"""

from __future__ import annotations

from toolkit.eventsourcing.aggregate import Aggregate, AggregateEvent, abstract
from toolkit.eventsourcing.context import event_context
from toolkit.eventsourcing.handlers import subscribe_to
from toolkit.eventsourcing.repository import AggregateRepository
from toolkit.eventsourcing.store import EventStoreBackend, NewEvent, Snapshot, StoredEvent
from toolkit.eventsourcing.upcasting import upcaster

__all__ = [
    "Aggregate",
    "AggregateEvent",
    "AggregateRepository",
    "EventStoreBackend",
    "NewEvent",
    "Snapshot",
    "StoredEvent",
    "abstract",
    "event_context",
    "subscribe_to",
    "upcaster",
]
