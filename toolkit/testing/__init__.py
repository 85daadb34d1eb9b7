"""In-memory test doubles for the patterns, so unit tests need no database.

- :class:`InMemoryRepository`: the Repository contract on a dict (full CRUD, ``NotFound``)
- :class:`FakeEventStore`: the EventStore API without a database
- :class:`MockObserver`: an EventBus that records what it delivers (``assert_emitted``)
- :class:`StrategyTestCase`: a fresh strategy registry per test
- :func:`toolkit.testing.otel.capture_spans`: the toolkit's OpenTelemetry spans, in memory
"""

from __future__ import annotations

from toolkit.testing.event_store import FakeEventStore
from toolkit.testing.observer import ANY, MockObserver
from toolkit.testing.repository import InMemoryRepository
from toolkit.testing.strategy import StrategyTestCase

__all__ = [
    "ANY",
    "FakeEventStore",
    "InMemoryRepository",
    "MockObserver",
    "StrategyTestCase",
]
