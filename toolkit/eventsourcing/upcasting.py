"""Upcasters: bring events stored under an old schema version up to the current one on load.

Register one function per ``(event type, from_version)``; it gets the payload of that version
and returns the payload of ``from_version + 1``. Loading applies them in a chain (v1 → v2 →
v3), so old events always read as the current version; the stored rows are never rewritten.

.. code-block:: python

    @upcaster("OrderCreated", from_version=1)
    def split_name(payload):
        first, _, last = payload.pop("name").partition(" ")
        return {**payload, "first_name": first, "last_name": last}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from toolkit.core.exceptions import ValidationError
from toolkit.eventsourcing.store import StoredEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UpcasterRegistry:
    """Upcasters by ``(event_type, from_version)``."""

    def __init__(self) -> None:
        self._upcasters: dict[str, dict[int, Upcaster]] = {}

    def register(self, event_type: str, from_version: int, func: Upcaster) -> Upcaster:
        """Register ``func`` to turn ``event_type`` payloads of ``from_version`` into the next
        version; registering the same pair twice raises ValidationError."""
        if not isinstance(from_version, int) or from_version < 1:
            raise ValidationError(
                f"from_version must be an integer ≥ 1, not {from_version!r}",
                field="from_version",
                value=from_version,
            )
        chain = self._upcasters.setdefault(event_type, {})
        existing = chain.get(from_version)
        if existing is not None and existing is not func:
            raise ValidationError(
                f"An upcaster for {event_type!r} from version {from_version} is already "
                f"registered: {existing.__qualname__}",
                field="from_version",
                value=from_version,
            )
        chain[from_version] = func
        return func

    def unregister(self, event_type: str, from_version: int) -> None:
        """Forget one upcaster (tests)."""
        self._upcasters.get(event_type, {}).pop(from_version, None)

    def __contains__(self, event_type: object) -> bool:
        return bool(self._upcasters.get(event_type))  # type: ignore[call-overload]

    def upcast(self, event: StoredEvent) -> StoredEvent:
        """``event`` with every upcaster from its version on applied, in order."""
        chain = self._upcasters.get(event.event_type)
        if not chain:
            return event
        version = event.schema_version
        payload = event.payload
        while (func := chain.get(version)) is not None:
            payload = func(dict(payload))
            version += 1
        if version == event.schema_version:
            return event
        return event.replace(payload=payload, schema_version=version)

    def upcast_all(self, events: Sequence[StoredEvent]) -> list[StoredEvent]:
        """Upcast a list; returns it unchanged when no event type has upcasters."""
        if not self._upcasters:
            return list(events)
        chains = self._upcasters
        return [self.upcast(e) if e.event_type in chains else e for e in events]


#: The process-wide registry used by the default event store.
upcasters = UpcasterRegistry()


def upcaster(event_type: str, *, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Decorator: register the function in :data:`upcasters`."""

    def decorate(func: Upcaster) -> Upcaster:
        return upcasters.register(event_type, from_version, func)

    return decorate
