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

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from fnmatch import fnmatchcase
from typing import Any, Literal, TypeVar

from toolkit.core.exceptions import EventDispatchError, ValidationError

__all__ = ["BACKENDS", "EventBus", "Handler", "default_bus", "get_default_bus", "pending_events"]


Handler = Callable[[Any], Any]
H = TypeVar("H", bound=Handler)
Backend = Literal["default", "celery"]
BACKENDS: tuple[str, ...] = ("celery", "default")

#: Events held back by the innermost open UnitOfWork of this context: (bus, event, payload).
#: ``None`` outside a unit of work. Read by :meth:`EventBus.emit` on every call.
pending_events: ContextVar[list[tuple[EventBus, str, Any]] | None] = ContextVar(
    "toolkit_pending_events", default=None
)

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


def handler_name(handler: Callable[..., Any]) -> str:
    """``module.qualname`` of a handler, as shown in :class:`EventDispatchError`."""
    module = getattr(handler, "__module__", None) or "?"
    qualname = getattr(handler, "__qualname__", None) or repr(handler)
    return f"{module}.{qualname}"


class _Subscription:
    __slots__ = ("handler", "is_async", "is_pattern", "name", "pattern")

    def __init__(self, pattern: str, handler: Handler) -> None:
        self.pattern = pattern
        self.handler = handler
        self.is_async = inspect.iscoroutinefunction(handler)
        self.is_pattern = any(ch in pattern for ch in "*?[")
        self.name = handler_name(handler)

    def matches(self, event: str) -> bool:
        if self.is_pattern:
            return fnmatchcase(event, self.pattern)
        return event == self.pattern


class EventBus:
    """An in-process publish/subscribe bus.

    ``backend`` is ``"default"`` (handlers run in this process) or ``"celery"`` (each handler
    runs as a Celery task); ``None`` follows ``TOOLKIT["patterns"]["event_bus"]``.
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
        self._subscriptions: list[_Subscription] = []
        # event name -> (all matching subscriptions, any of them async?)
        self._cache: dict[str, tuple[tuple[_Subscription, ...], bool]] = {}
        self._lock = threading.Lock()

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
        with self._lock:
            self._subscriptions.append(_Subscription(event, handler))
            self._cache = {}
        return handler

    def off(self, event: str | None = None, handler: Handler | None = None) -> int:
        """Unsubscribe; return how many subscriptions were removed.

        ``off("order.paid", f)`` removes ``f`` from that name or pattern, ``off("order.paid")``
        every handler of it, ``off(handler=f)`` ``f`` everywhere, ``off()`` everything.
        """
        with self._lock:
            keep = [
                s
                for s in self._subscriptions
                if not (
                    (event is None or s.pattern == event)
                    and (handler is None or s.handler == handler)
                )
            ]
            removed = len(self._subscriptions) - len(keep)
            self._subscriptions = keep
            self._cache = {}
        return removed

    def handlers(self, event: str) -> list[Handler]:
        """The handlers ``emit(event, ...)`` would call, in registration order."""
        return [s.handler for s in self._matching(event)[0]]

    def handlers_for(self, event: str) -> list[Handler]:
        """dmr-toolkit 0.1.0's name for :meth:`handlers`."""
        return self.handlers(event)

    def clear(self) -> None:
        """Remove every subscription (dmr-toolkit 0.1.0's name for ``off()``)."""
        self.off()

    def _matching(self, event: str) -> tuple[tuple[_Subscription, ...], bool]:
        found = self._cache.get(event)
        if found is None:
            with self._lock:
                subs = tuple(s for s in self._subscriptions if s.matches(event))
                found = (subs, any(s.is_async for s in subs))
                self._cache[event] = found
        return found

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
        subs, has_async = self._matching(event)
        if not subs:
            return
        if (self.backend or _configured_backend()) == "celery":
            from toolkit.contrib.celery import enqueue

            enqueue(event, payload, [s.handler for s in subs])
            return
        errors: list[tuple[str, BaseException]] | None = None
        if not has_async:
            for sub in subs:
                try:
                    sub.handler(payload)
                except Exception as exc:
                    if errors is None:
                        errors = []
                    errors.append((sub.name, exc))
        else:
            errors = _run_mixed(subs, payload)
        if errors:
            raise EventDispatchError(event, errors)

    async def adispatch(self, event: str, payload: Any = None) -> None:
        """Async :meth:`dispatch`."""
        subs, _ = self._matching(event)
        if not subs:
            return
        from asgiref.sync import sync_to_async

        if (self.backend or _configured_backend()) == "celery":
            from toolkit.contrib.celery import enqueue

            await sync_to_async(enqueue)(event, payload, [s.handler for s in subs])
            return
        errors: list[tuple[str, BaseException]] = []
        for sub in subs:
            try:
                if sub.is_async:
                    await sub.handler(payload)
                else:
                    await sync_to_async(sub.handler)(payload)
            except Exception as exc:
                errors.append((sub.name, exc))
        if errors:
            raise EventDispatchError(event, errors)


def _run_mixed(subs: Iterable[_Subscription], payload: Any) -> list[tuple[str, BaseException]]:
    """Run sync and async handlers in order from sync code; return the errors."""
    subs = tuple(subs)

    async def run_all() -> list[tuple[str, BaseException]]:
        errors: list[tuple[str, BaseException]] = []
        for sub in subs:
            try:
                result = sub.handler(payload)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                errors.append((sub.name, exc))
        return errors

    return _run_coroutine(run_all)


def _run_coroutine(
    func: Callable[[], Awaitable[list[tuple[str, BaseException]]]],
) -> list[tuple[str, BaseException]]:
    """Run an async function to completion from sync code, even under a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        from asgiref.sync import async_to_sync

        # async_to_sync reuses the outer event loop when we run inside sync_to_async.
        return async_to_sync(func)()
    # Called from a coroutine (a sync emit inside async code): run in a helper thread with
    # its own loop, as blocking the running loop on itself would deadlock.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, func()).result()  # type: ignore[arg-type]


#: The process default bus: StateMachine emits ``<model>.<transition>`` on it.
default_bus = EventBus()


def get_default_bus() -> EventBus:
    """Return the process default bus (the one StateMachine and Command events go to)."""
    return default_bus
