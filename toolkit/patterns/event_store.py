"""The EventStore facade, importable where it has always been.

It is defined in :mod:`toolkit.eventsourcing.event_store`, next to the backends it drives;
``toolkit.patterns`` re-exports it so ``from toolkit.patterns import EventStore`` keeps working.
"""

from __future__ import annotations

from toolkit.eventsourcing.event_store import EventData, EventStore

__all__ = ["EventData", "EventStore"]
