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
#: dddkit's subscription key: a function of the event that says whether a handler wants it.
Predicate = Callable[[Any], bool]
H = TypeVar("H", bound=Callable[..., Any])
#: Routes whose deduplicated handlers an EventBroker remembers (see ``EventBroker._unique``).
_UNIQUE_MEMO_SIZE = 256

__all__ = ["Dispatched", "EventBroker", "Handler", "Predicate", "handler_name"]


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


def _predicate_test(predicate: Predicate) -> Callable[[Any, Any], bool]:
    """The engine's per-event test of a dddkit predicate subscription."""
    return lambda _event_type, event: bool(predicate(event))


def _event_types(target: Any, owner: str) -> tuple[type[Any], ...]:
    if isinstance(target, type):
        return (target,)
    if isinstance(target, str) or not isinstance(target, Iterable):
        raise TypeError(f"EventBroker.{owner}() takes event classes, not {target!r}")
    types = tuple(target)
    for event_type in types:
        if not isinstance(event_type, type):
            raise TypeError(f"EventBroker.{owner}() takes event classes, not {event_type!r}")
    return types


class EventBroker:
    """Routes events to the handlers registered for their class (or a base class).

    The dddkit face of the toolkit's one publish/subscribe engine (:mod:`toolkit.core.bus`):
    the engine keeps the order, caches the handlers per event class and isolates failures;
    this class speaks in event classes and event objects.

    ``parallel=True`` runs the async handlers of one event concurrently
    (``asyncio.gather``); sync handlers still run one after the other, in order, before them.
    Failures are reported in registration order either way.

    dddkit's API works too: ``subscribe(predicate, handler)`` / ``unsubscribe(predicate,
    handler)``, ``@register(predicate)``, ``@instance(EventClass)`` (the seed README's
    ``@handle``), ``publish`` / ``async_publish``. A handler gets each event once, however many
    of its subscriptions match. An event no handler accepts raises ``NotImplementedError``, as
    in dddkit, unless ``require_handler=False``.
    """

    def __init__(self, parallel: bool = False, *, require_handler: bool = True) -> None:
        self.parallel = parallel
        self.require_handler = require_handler
        self._engine = Engine()
        # id(route) -> (route, its handlers each once): the engine hands out the same cached
        # tuple for an event type until the subscriptions change, so the deduplication runs
        # once per route, not per dispatch. Keeping the route in the value keeps its id from
        # being reused; the memo is cleared when it grows (per-event routes are new tuples).
        self._unique: dict[int, tuple[tuple[Subscription, ...], tuple[Subscription, ...]]] = {}

    # -- registration -------------------------------------------------------------------
    def handle(self, *event_types: type[Any]) -> Callable[[H], H]:
        """Decorator: register the function as a handler of ``event_types`` (and subclasses)."""
        if not event_types:
            raise TypeError("EventBroker.handle() needs at least one event class")
        types = _event_types(event_types, "handle")

        def decorator(func: H) -> H:
            self.subscribe(types, func)
            return func

        return decorator

    def instance(self, event_type: type[Any] | tuple[type[Any], ...] | None) -> Callable[[H], H]:
        """dddkit's decorator: handle events that are instances of ``event_type`` (a class or
        a tuple of classes; ``None`` means ``type(None)``)."""
        types = _event_types(type(None) if event_type is None else event_type, "instance")

        def decorator(func: H) -> H:
            self.subscribe(types, func)
            return func

        return decorator

    def register(self, predicate: Predicate) -> Callable[[H], H]:
        """dddkit's decorator: handle the events for which ``predicate(event)`` is true."""

        def decorator(func: H) -> H:
            self.subscribe(predicate, func)
            return func

        return decorator

    def subscribe(
        self, target: type[Any] | Iterable[type[Any]] | Predicate, handler: Handler
    ) -> None:
        """Register ``handler`` for one event class, several, or (dddkit) a predicate of the
        event; it runs after earlier handlers. A (predicate, handler) pair subscribed twice
        is one subscription."""
        if callable(target) and not isinstance(target, type):
            predicate: Predicate = target
            sub = Subscription(predicate, handler, _predicate_test(predicate), per_event=True)
            self._engine.add(sub, unique=True)
            return
        types = _event_types(target, "subscribe")
        self._engine.add(Subscription(types, handler, _class_test(types)))

    def unsubscribe(self, *args: Any) -> None:
        """``unsubscribe(handler)`` removes every registration of ``handler``;
        ``unsubscribe(predicate_or_classes, handler)`` (dddkit) removes that one. Unknown
        handlers are ignored."""
        if len(args) == 1:
            handler = args[0]
            self._engine.remove(lambda s: s.handler is handler)
            return
        if len(args) != 2:
            raise TypeError(
                f"unsubscribe() takes (handler) or (predicate, handler), not {len(args)} arguments"
            )
        target, handler = args
        if not callable(target) or isinstance(target, type):
            target = _event_types(target, "unsubscribe")
        # Equality, as dddkit's set.discard: ``obj.method`` is a new bound method each time.
        self._engine.remove(lambda s: s.handler == handler and s.key == target)

    def handlers_for(self, event: object) -> list[Handler]:
        """The handlers ``event`` goes to, in registration order (each once)."""
        return [s.handler for s in self._route(event)]

    def _route(self, event: object) -> tuple[Subscription, ...]:
        subs = self._engine.route(type(event), event)
        if len(subs) < 2:
            return subs
        memo = self._unique.get(id(subs))
        if memo is not None and memo[0] is subs:
            return memo[1]
        # A handler matched by several subscriptions gets the event once (dddkit's sets;
        # equality, so two ``obj.method`` bound methods count as one handler).
        unique: list[Subscription] = []
        for sub in subs:
            if not any(sub.handler == kept.handler for kept in unique):
                unique.append(sub)
        if len(self._unique) >= _UNIQUE_MEMO_SIZE:
            self._unique.clear()
        found = self._unique[id(subs)] = (subs, tuple(unique))
        return found[1]

    def _subscriptions_of(self, event: object) -> tuple[Subscription, ...]:
        subs = self._route(event)
        if not subs and self.require_handler:
            raise NotImplementedError(f"No suitable event handlers found. {event!r}")
        return subs

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
        subs = self._subscriptions_of(event)
        return _finish(event, subs, self._engine.run(subs, event, parallel=self.parallel))

    def publish(self, event: object) -> Dispatched:
        """dddkit's name for :meth:`dispatch`."""
        return self.dispatch(event)

    async def async_publish(self, event: object) -> Dispatched:
        """dddkit's name for :meth:`adispatch`."""
        return await self.adispatch(event)

    async def adispatch(self, event: object) -> Dispatched:
        """Run every handler of ``event``, awaiting async ones; raise their errors together."""
        subs = self._subscriptions_of(event)
        failures = await self._engine.arun(subs, event, parallel=self.parallel)
        return _finish(event, subs, failures)


def _finish(event: object, subs: tuple[Subscription, ...], failures: list[Failure]) -> Dispatched:
    """Raise the gathered errors in registration order, or report what ran."""
    if failures:
        raise EventDispatchError(
            _event_name(event), [(handler_name(sub.handler), exc) for sub, exc in failures]
        )
    return Dispatched(event, tuple(s.handler for s in subs))
