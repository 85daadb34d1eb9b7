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
import inspect
import threading
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from toolkit.core.exceptions import EventDispatchError

Handler = Callable[[Any], Awaitable[None] | None]
H = TypeVar("H", bound=Callable[..., Any])

__all__ = ["Dispatched", "EventBroker", "Handler", "handler_name"]


def handler_name(handler: Callable[..., Any]) -> str:
    """``module.qualname`` of a handler, as shown in :class:`EventDispatchError`."""
    module = getattr(handler, "__module__", None) or ""
    qualname = getattr(handler, "__qualname__", None) or repr(handler)
    return f"{module}.{qualname}" if module else qualname


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


class EventBroker:
    """Routes events to the handlers registered for their class (or a base class).

    ``parallel=True`` runs the async handlers of one event concurrently
    (``asyncio.gather``); sync handlers still run one after the other, in order, before them.
    Failures are reported in registration order either way.
    """

    def __init__(self, *, parallel: bool = False) -> None:
        self.parallel = parallel
        self._handlers: list[tuple[tuple[type[Any], ...], Handler]] = []
        self._lock = threading.Lock()
        # Per event class: its handlers and whether each is ``async def``. Dispatch is then a
        # dictionary lookup and a loop; (un)subscribing clears it.
        self._cache: dict[type[Any], tuple[tuple[Handler, bool], ...]] = {}

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
        with self._lock:
            self._handlers.append((types, handler))
            self._cache = {}

    def unsubscribe(self, handler: Handler) -> None:
        """Remove every registration of ``handler``; unknown handlers are ignored."""
        with self._lock:
            self._handlers = [(t, h) for t, h in self._handlers if h is not handler]
            self._cache = {}

    def handlers_for(self, event: object) -> list[Handler]:
        """The handlers ``event`` goes to, in registration order."""
        return [handler for handler, _ in self._resolve(type(event))]

    def _resolve(self, event_type: type[Any]) -> tuple[tuple[Handler, bool], ...]:
        try:
            return self._cache[event_type]
        except KeyError:
            pass
        entries = tuple(
            (h, inspect.iscoroutinefunction(h))
            for types, h in list(self._handlers)
            if issubclass(event_type, types)
        )
        self._cache[event_type] = entries
        return entries

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
        entries = self._resolve(type(event))
        errors: list[tuple[int, BaseException]] = []
        pending: list[int] = []
        for index, (handler, is_async) in enumerate(entries):
            if is_async and self.parallel:
                pending.append(index)
                continue
            try:
                result = handler(event)
                if result is not None and inspect.isawaitable(result):
                    _run_coroutine(_await(result))
            except Exception as exc:
                errors.append((index, exc))
        if pending:
            results = _run_coroutine(_gather([entries[i][0] for i in pending], event))
            errors.extend((i, exc) for i, exc in zip(pending, results, strict=True) if exc)
        return _finish(event, entries, errors)

    async def adispatch(self, event: object) -> Dispatched:
        """Run every handler of ``event``, awaiting async ones; raise their errors together."""
        entries = self._resolve(type(event))
        errors: list[tuple[int, BaseException]] = []
        pending: list[int] = []
        for index, (handler, is_async) in enumerate(entries):
            if is_async and self.parallel:
                pending.append(index)
                continue
            try:
                result = handler(event)
                if result is not None and inspect.isawaitable(result):
                    await result
            except Exception as exc:
                errors.append((index, exc))
        if pending:
            results = await _gather([entries[i][0] for i in pending], event)
            errors.extend((i, exc) for i, exc in zip(pending, results, strict=True) if exc)
        return _finish(event, entries, errors)


def _finish(
    event: object,
    entries: tuple[tuple[Handler, bool], ...],
    errors: list[tuple[int, BaseException]],
) -> Dispatched:
    """Raise the gathered errors in registration order, or report what ran."""
    if errors:
        errors.sort(key=lambda item: item[0])
        raise EventDispatchError(
            _event_name(event), [(handler_name(entries[i][0]), exc) for i, exc in errors]
        )
    return Dispatched(event, tuple(h for h, _ in entries))


async def _await(awaitable: Awaitable[Any]) -> None:
    await awaitable


async def _gather(handlers: list[Handler], event: object) -> list[BaseException | None]:
    async def run(handler: Handler) -> BaseException | None:
        try:
            result = handler(event)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            return exc
        return None

    return list(await asyncio.gather(*(run(h) for h in handlers)))


T = TypeVar("T")


def _run_coroutine(coro: Coroutine[Any, Any, T] | Awaitable[T]) -> T:
    """Run ``coro`` to completion from sync code, even if this thread runs a loop."""

    async def main() -> T:
        return await coro

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(main())
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="event-broker-dispatch")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result
