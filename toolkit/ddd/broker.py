"""EventBroker: dispatch domain events to sync and async handlers, in registration order.

Pure Python, no Django. Compared with dddkit's broker, handlers keep their registration order
(a list, not a set), and one failing handler does not stop the others: every handler runs and
the failures are raised together as one :class:`EventDispatchError`.

How ``broker(event)`` knows whether to run now or to be awaited
-------------------------------------------------------------
``broker(event)`` looks for a running asyncio event loop in the current thread:

* **no running loop** (plain sync code, Django sync views, management commands): every handler
  runs before the call returns; async handlers are driven to completion on a private loop. The
  call returns a :class:`Dispatched` result, which is also awaitable (awaiting it returns
  itself), so ``await broker(event)`` is harmless if the code later moves into async land.
* **a running loop** (inside ``async def``): the call returns a coroutine and nothing runs
  until it is awaited, exactly like calling an ``async def`` function. Python warns
  ("coroutine ... was never awaited") if you forget the ``await``.

:meth:`EventBroker.dispatch` (always sync) and :meth:`EventBroker.adispatch` (always async)
say it explicitly.

Example::

    broker = EventBroker()

    @broker.handle(Allocated)
    def add_to_read_model(event: Allocated) -> None: ...

    @broker.handle(Allocated)
    async def notify(event: Allocated) -> None: ...

    broker(Allocated(orderid="o1", sku="LAMP", qty=1, batchref="b1"))
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from toolkit.core.bus import Engine, Failure, Subscription, handler_name
from toolkit.core.exceptions import EventDispatchError

Handler = Callable[[Any], Awaitable[None] | None]
H = TypeVar("H", bound=Callable[..., Any])

__all__ = ["Dispatched", "EventBroker", "Handler", "handler_name"]


def _event_name(event: object) -> str:
    return type(event).__qualname__


@dataclass
class Dispatched:
    """What a dispatch did: the event and the handlers that ran.

    Awaiting it returns itself, so ``await broker(event)`` also works where the broker ran
    synchronously.
    """

    event: Any
    handler_functions: tuple[Handler, ...] = ()

    @property
    def handlers(self) -> list[str]:
        """``module.qualname`` of each handler that ran, in order."""
        return [handler_name(h) for h in self.handler_functions]

    def __await__(self) -> Generator[Any, None, Dispatched]:
        return self
        yield  # pragma: no cover - makes this a generator; never reached


def _class_test(types: tuple[type[Any], ...]) -> Callable[[Any, Any], bool]:
    """The engine's route test: the event's class is one of ``types`` or a subclass."""
    return lambda event_type, _event: issubclass(event_type, types)


class EventBroker:
    """Routes events to the handlers registered for their class (or a base class).

    The dddkit face of the toolkit's one publish/subscribe engine (:mod:`toolkit.core.bus`):
    the engine keeps the order, caches the handlers per event class and isolates failures;
    this class speaks in event classes and event objects.

    ``parallel=True`` runs the async handlers of one event concurrently
    (``asyncio.gather``); sync handlers still run one after the other, in order, before them.
    Failures are reported in registration order either way.
    """

    def __init__(self, *, parallel: bool = False) -> None:
        self.parallel = parallel
        self._engine = Engine()

    # -- registration -------------------------------------------------------------------
    def handle(self, *event_types: type[Any]) -> Callable[[H], H]:
        """Decorator: register the function as a handler of ``event_types`` (and subclasses)."""
        if not event_types:
            raise TypeError("EventBroker.handle() needs at least one event class")
        for event_type in event_types:
            if not isinstance(event_type, type):
                raise TypeError(f"EventBroker.handle() takes event classes, not {event_type!r}")

        def decorator(func: H) -> H:
            self.subscribe(event_types, func)
            return func

        return decorator

    def subscribe(self, event_types: type[Any] | Iterable[type[Any]], handler: Handler) -> None:
        """Register ``handler`` for one event class or several; it runs after earlier ones."""
        types = (event_types,) if isinstance(event_types, type) else tuple(event_types)
        self._engine.add(Subscription(types, handler, _class_test(types)))

    def unsubscribe(self, handler: Handler) -> None:
        """Remove every registration of ``handler``; unknown handlers are ignored."""
        self._engine.remove(lambda s: s.handler is handler)

    def handlers_for(self, event: object) -> list[Handler]:
        """The handlers ``event`` goes to, in registration order."""
        return [s.handler for s in self._engine.route(type(event), event)]

    # -- dispatch -----------------------------------------------------------------------
    def __call__(self, event: object) -> Dispatched | Coroutine[Any, Any, Dispatched]:
        """Dispatch now (no running loop) or return a coroutine to await (running loop)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self.dispatch(event)
        return self.adispatch(event)

    def dispatch(self, event: object) -> Dispatched:
        """Run every handler of ``event`` before returning; raise their errors together.

        Async handlers run on a private event loop (in a helper thread when the calling
        thread already runs a loop).
        """
        subs = self._engine.route(type(event), event)
        return _finish(event, subs, self._engine.run(subs, event, parallel=self.parallel))

    async def adispatch(self, event: object) -> Dispatched:
        """Run every handler of ``event``, awaiting async ones; raise their errors together."""
        subs = self._engine.route(type(event), event)
        failures = await self._engine.arun(subs, event, parallel=self.parallel)
        return _finish(event, subs, failures)


def _finish(event: object, subs: tuple[Subscription, ...], failures: list[Failure]) -> Dispatched:
    """Raise the gathered errors in registration order, or report what ran."""
    if failures:
        raise EventDispatchError(
            _event_name(event), [(handler_name(sub.handler), exc) for sub, exc in failures]
        )
    return Dispatched(event, tuple(s.handler for s in subs))
