"""FakeEventStore: the full :class:`~toolkit.eventsourcing.event_store.EventStore` API in memory.

It is the real facade over the in-memory backend and overrides no method of it (a test pins
that), so the memory backend's run of the contract suite
(``tests/toolkit/eventsourcing/contract.py``) covers it and it cannot drift. It reads no
settings and needs no database:

.. code-block:: python

    store = FakeEventStore()
    store.append("agg-1", "Order", "Created", {})
    assert [e.event_type for e in store.load("agg-1")] == ["Created"]
"""

from __future__ import annotations

from toolkit.eventsourcing.backends.memory import MemoryEventStoreBackend
from toolkit.eventsourcing.event_store import EventStore
from toolkit.eventsourcing.schemas import SchemaRegistry
from toolkit.eventsourcing.upcasting import UpcasterRegistry


class FakeEventStore(EventStore):
    """An event store in process memory; pass ``schemas``/``validate``/``upcasters`` to test
    schema validation and upcasting without files or settings."""

    def __init__(
        self,
        *,
        schemas: SchemaRegistry | None = None,
        validate: bool = False,
        upcasters: UpcasterRegistry | None = None,
    ) -> None:
        super().__init__(
            MemoryEventStoreBackend(),
            schemas=schemas,
            validate=validate,
            upcasters=upcasters if upcasters is not None else UpcasterRegistry(),
        )

    def clear(self) -> None:
        """Forget every event and snapshot."""
        self.backend = MemoryEventStoreBackend()

    def reset(self) -> None:
        """dmr-toolkit 0.1.0's name for :meth:`clear`."""
        self.clear()


__all__ = ["FakeEventStore"]
