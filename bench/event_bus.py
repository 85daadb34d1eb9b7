"""``EventBus.emit`` to 3 handlers vs Django's ``Signal.send`` to 3 receivers.

Run: ``python -m bench.event_bus``. Goal: emit at least 2x ``Signal.send``.

Both sides call three no-op sync functions with one payload. The bus is ``EventBus()`` with the
default settings (in-process backend); the three handlers are subscribed as one exact name, one
``order.*`` wildcard and one ``*``, so the cached wildcard lookup is part of the figure. Each
figure is the best of several rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django
from django.conf import settings

from bench._timing import best_per_loop

ROUNDS = 7
LOOPS = 100_000
PAYLOAD = {"id": 42, "email": "user@example.com"}


def _configure() -> None:
    if settings.configured:
        return
    settings.configure(INSTALLED_APPS=[])
    django.setup()


def _best(func: Callable[[], None]) -> float:
    """Best time per loop, in microseconds."""
    return best_per_loop(func, rounds=ROUNDS, loops=LOOPS)


def _handler(payload: Any) -> None:
    return None


def _receiver(sender: Any, **kwargs: Any) -> None:
    return None


def build() -> tuple[Callable[[], None], Callable[[], None]]:
    """The two loops: Signal.send and EventBus.emit, three no-op listeners each."""
    from django.dispatch import Signal

    from toolkit.patterns.observer import EventBus

    signal = Signal()
    receivers = [lambda sender, **kw: None for _ in range(2)]
    signal.connect(_receiver, weak=False)
    for receiver in receivers:
        signal.connect(receiver, weak=False)

    bus = EventBus()
    bus.subscribe("order.paid", _handler)
    bus.subscribe("order.*", _handler)
    bus.subscribe("*", _handler)

    def signal_loop() -> None:
        send = signal.send
        for _ in range(LOOPS):
            send(sender=None, payload=PAYLOAD)

    def bus_loop() -> None:
        emit = bus.emit
        for _ in range(LOOPS):
            emit("order.paid", PAYLOAD)

    assert len(signal.send(sender=None, payload=PAYLOAD)) == 3
    assert len(bus.handlers("order.paid")) == 3
    return signal_loop, bus_loop


def main() -> None:
    _configure()
    signal_loop, bus_loop = build()
    signal = _best(signal_loop)
    bus = _best(bus_loop)
    print("one event to 3 sync listeners, best of", ROUNDS, "x", LOOPS)
    print(f"  django Signal.send           {signal:7.3f} us   {1 / signal:8.3f} M/s")
    print(f"  toolkit EventBus.emit        {bus:7.3f} us   {1 / bus:8.3f} M/s")
    print(f"  ratio emit/Signal.send: {signal / bus:.2f}x faster (goal >= 2x)")


if __name__ == "__main__":
    main()
