"""Observer / EventBus: publish/subscribe for domain events.

::

    bus = EventBus()

    @bus.on("order.paid")
    def send_receipt(payload): ...

    @bus.on("order.*")          # any event whose name starts with "order."
    async def log_order_event(payload): ...

    bus.emit("order.paid", {"email": "user@example.com"})
    await bus.aemit("order.shipped", {"tracking": "ABC123"})

Handlers run in registration order, sync and async alike. One failing handler does not stop
the others; every error (sync or async) is gathered into one :class:`EventDispatchError`.

Patterns use :func:`fnmatch.fnmatchcase` syntax: ``"order.*"``, ``"*"``, ``"order.?aid"``. The
handlers matching an event name are computed once and cached until ``on`` / ``off`` changes
the subscriptions, so ``emit`` is a dictionary lookup and a loop.

Inside a :class:`~toolkit.patterns.unit_of_work.UnitOfWork`, ``emit`` on any bus only records
the event; the unit of work dispatches it after commit and drops it on rollback.

With the ``event_bus`` setting set to ``"celery"`` (or ``EventBus(backend="celery")``) each
handler runs as a Celery task instead (:mod:`toolkit.contrib.celery`); handlers must then be
importable module-level functions and payloads JSON-serialisable.
"""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any, Literal, TypeVar

from toolkit.core.bus import Engine, Failure, Subscription, handler_name, pending_events
from toolkit.core.exceptions import EventDispatchError, ValidationError

__all__ = [
    "BACKENDS",
    "EventBus",
    "Handler",
    "default_bus",
    "get_default_bus",
    "handler_name",
    "pending_events",
]


Handler = Callable[[Any], Any]
H = TypeVar("H", bound=Handler)
Backend = Literal["default", "celery"]
BACKENDS: tuple[str, ...] = ("celery", "default")

# ``pending_events`` (the events held back by an open UnitOfWork) is the engine's, re-exported
# here for the unit of work and for code that imported it from this module.

_UNRESOLVED = "unresolved"
#: The ``event_bus`` setting, read once and forgotten when ``TOOLKIT`` changes.
_settings_backend: str = _UNRESOLVED
_reload_hooked = False


def _forget_settings_backend() -> None:
    global _settings_backend
    _settings_backend = _UNRESOLVED


def _configured_backend() -> str:
    """The ``event_bus`` setting, or ``"default"`` when Django settings are not configured."""
    global _settings_backend, _reload_hooked
    if _settings_backend == _UNRESOLVED:
        from toolkit.conf import on_reload, settings_ready, toolkit_settings

        if not settings_ready():
            return "default"

        if not _reload_hooked:
            on_reload(_forget_settings_backend)
            _reload_hooked = True
        _settings_backend = str(toolkit_settings.patterns["event_bus"])
    return _settings_backend


def _name_test(pattern: str) -> Callable[[Any, Any], bool]:
    """The engine's route test for a name (equality) or a wildcard pattern (fnmatch)."""
    if any(ch in pattern for ch in "*?["):
        return lambda name, _event: fnmatchcase(str(name), pattern)
    return lambda name, _event: name == pattern


class EventBus:
    """An in-process publish/subscribe bus: the dmr face of :mod:`toolkit.core.bus`.

    ``backend`` is ``"default"`` (handlers run in this process) or ``"celery"`` (each handler
    runs as a Celery task); ``None`` follows ``TOOLKIT["patterns"]["event_bus"]``. Ordering,
    wildcard routing, sync/async delivery and fault isolation are the engine's; this class
    adds the event-name vocabulary, the Celery backend and the unit-of-work hold-back.
    """

    def __init__(self, *, backend: Backend | None = None) -> None:
        if backend is not None and backend not in BACKENDS:
            choices = ", ".join(repr(b) for b in BACKENDS)
            raise ValidationError(
                f"Unknown EventBus backend {backend!r}; valid backends are: {choices}",
                field="backend",
                value=backend,
            )
        self.backend: Backend | None = backend
        self._engine = Engine()

    # -- subscribing ---------------------------------------------------------------------

    def on(self, event: str) -> Callable[[H], H]:
        """Decorator: subscribe the function to ``event`` (a name or a wildcard pattern)."""

        def decorator(handler: H) -> H:
            self.subscribe(event, handler)
            return handler

        return decorator

    def subscribe(self, event: str, handler: Handler) -> Handler:
        """Subscribe ``handler`` (sync or async, called with the payload) to ``event``."""
        if not isinstance(event, str) or not event:
            raise ValidationError(
                f"Event name must be a non-empty string, not {event!r}", field="event", value=event
            )
        if not callable(handler):
            raise ValidationError(
                f"Handler for {event!r} must be callable, not {handler!r}",
                field="handler",
                value=handler,
            )
        self._engine.add(Subscription(event, handler, _name_test(event)))
        return handler

    def off(self, event: str | None = None, handler: Handler | None = None) -> int:
        """Unsubscribe; return how many subscriptions were removed.

        ``off("order.paid", f)`` removes ``f`` from that name or pattern, ``off("order.paid")``
        every handler of it, ``off(handler=f)`` ``f`` everywhere, ``off()`` everything.
        """
        return self._engine.remove(
            lambda s: (
                (event is None or s.key == event) and (handler is None or s.handler == handler)
            )
        )

    def handlers(self, event: str) -> list[Handler]:
        """The handlers ``emit(event, ...)`` would call, in registration order."""
        return [s.handler for s in self._engine.route(event)]

    def handlers_for(self, event: str) -> list[Handler]:
        """dmr-toolkit 0.1.0's name for :meth:`handlers`."""
        return self.handlers(event)

    def clear(self) -> None:
        """Remove every subscription (dmr-toolkit 0.1.0's name for ``off()``)."""
        self.off()

    # -- emitting ------------------------------------------------------------------------

    def emit(self, event: str, payload: Any = None) -> None:
        """Call every handler of ``event`` with ``payload``, in registration order.

        Async handlers are run to completion too. Raises :class:`EventDispatchError` after
        all handlers ran if any of them raised. Inside a UnitOfWork the event is held back
        until commit.
        """
        buffer = pending_events.get()
        if buffer is not None:
            buffer.append((self, event, payload))
            return
        self.dispatch(event, payload)

    async def aemit(self, event: str, payload: Any = None) -> None:
        """Async :meth:`emit`: async handlers are awaited, sync ones run in a worker thread."""
        buffer = pending_events.get()
        if buffer is not None:
            buffer.append((self, event, payload))
            return
        await self.adispatch(event, payload)

    def dispatch(self, event: str, payload: Any = None) -> None:
        """Deliver ``event`` now, ignoring any open UnitOfWork (used by the unit of work)."""
        subs = self._engine.route(event)
        if not subs:
            return
        if (self.backend or _configured_backend()) == "celery":
            from toolkit.contrib.celery import enqueue

            enqueue(event, payload, [s.handler for s in subs])
            return
        _raise_failures(event, self._engine.run(subs, payload))

    async def adispatch(self, event: str, payload: Any = None) -> None:
        """Async :meth:`dispatch`."""
        subs = self._engine.route(event)
        if not subs:
            return
        from asgiref.sync import sync_to_async

        if (self.backend or _configured_backend()) == "celery":
            from toolkit.contrib.celery import enqueue

            await sync_to_async(enqueue)(event, payload, [s.handler for s in subs])
            return
        _raise_failures(event, await self._engine.arun(subs, payload, sync_in_thread=True))


def _raise_failures(event: str, failures: list[Failure]) -> None:
    """One :class:`EventDispatchError` for every handler that raised, in order."""
    if failures:
        raise EventDispatchError(event, [(sub.name, exc) for sub, exc in failures])


#: The process default bus: StateMachine emits ``<model>.<transition>`` on it.
default_bus = EventBus()


def get_default_bus() -> EventBus:
    """Return the process default bus (the one StateMachine and Command events go to)."""
    return default_bus
