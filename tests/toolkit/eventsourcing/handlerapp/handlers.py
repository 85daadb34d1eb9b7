"""Handlers found by ``autodiscover_handlers`` (djangoevents' convention)."""

from __future__ import annotations

from toolkit.eventsourcing import StoredEvent, subscribe_to

received: list[StoredEvent] = []


@subscribe_to("Discovered.Happened")
def on_happened(event: StoredEvent) -> None:
    received.append(event)
