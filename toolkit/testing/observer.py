"""``MockObserver``: an EventBus that records what it delivers, with assertions."""

from __future__ import annotations

from typing import Any
from unittest import mock

from toolkit.patterns.observer import EventBus

__all__ = ["ANY", "MockObserver"]


#: Matches any payload in :meth:`MockObserver.assert_emitted` (it is ``unittest.mock.ANY``).
ANY: Any = mock.ANY


class MockObserver(EventBus):
    """A real in-process ``EventBus`` that also records every delivered ``(event, payload)``.

    Handlers subscribed with ``on`` still run. Events held back by a ``UnitOfWork`` are
    recorded when they are delivered (after commit), so a rolled-back block records nothing.

    ::

        bus = MockObserver()
        bus.emit("order.paid", {"id": 42})
        bus.assert_emitted("order.paid", {"id": 42})
    """

    def __init__(self) -> None:
        super().__init__(backend="default")
        self.emitted: list[tuple[str, Any]] = []

    def dispatch(self, event: str, payload: Any = None) -> None:
        self.emitted.append((event, payload))
        super().dispatch(event, payload)

    async def adispatch(self, event: str, payload: Any = None) -> None:
        self.emitted.append((event, payload))
        await super().adispatch(event, payload)

    def events(self, event: str | None = None) -> list[Any]:
        """Payloads delivered for ``event`` (every ``(event, payload)`` pair when None)."""
        if event is None:
            return list(self.emitted)
        return [payload for name, payload in self.emitted if name == event]

    def assert_emitted(self, event: str, payload: Any = ANY, *, times: int | None = None) -> None:
        """Fail unless ``event`` was delivered with ``payload`` (any payload by default).

        ``times`` also checks how often it was delivered with that payload.
        """
        matches = [p for name, p in self.emitted if name == event and p == payload]
        if matches and (times is None or len(matches) == times):
            return
        seen = ", ".join(f"{name}: {p!r}" for name, p in self.emitted) or "nothing"
        expected = event if payload is ANY else f"{event} with {payload!r}"
        count = "" if times is None else f" {times} time(s), got {len(matches)}"
        raise AssertionError(f"Expected {expected} to be emitted{count}; emitted: {seen}")

    def assert_not_emitted(self, event: str) -> None:
        """Fail if ``event`` was delivered at all."""
        payloads = self.events(event)
        if payloads:
            raise AssertionError(f"Expected {event} not to be emitted; it was with: {payloads!r}")

    def reset(self) -> None:
        """Forget the recorded events (subscriptions stay)."""
        self.emitted.clear()

    def get_emitted(self, event: str) -> list[Any]:
        """dmr-toolkit 0.1.0's name for :meth:`events` of one event."""
        return self.events(event)

    def clear(self) -> None:
        """Forget the recorded events, as dmr-toolkit 0.1.0's ``MockObserver.clear`` did
        (on a plain ``EventBus``, ``clear()`` drops the subscriptions instead)."""
        self.reset()
