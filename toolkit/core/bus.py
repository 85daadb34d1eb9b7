"""The one publish/subscribe engine under every bus of the toolkit.

The faces translate their seed's vocabulary onto it:

* :class:`toolkit.patterns.EventBus` (dmr): event names and ``fnmatch`` wildcards, payloads;
* :class:`toolkit.ddd.EventBroker` (dddkit): event classes (a handler of a base class gets the
  subclasses' events), event objects;
* :mod:`toolkit.eventsourcing.handlers` (djangoevents ``subscribe_to``): stored events by
  event type.

What the engine owns, so that every face behaves the same:

* **ordering**: handlers run in subscription order, whatever matched them (a name, a pattern,
  a class, a predicate);
* **routing**: a :class:`Subscription` says whether it matches a *route key* (an event name, an
  event class) and so can be cached per key, or must test each event (a predicate); the
  handlers of a key are computed once and cached until the subscriptions change, so a
  dispatch is a dictionary lookup and a loop;
* **sync and async**: :meth:`Engine.run` calls sync handlers in the calling thread and drives
  each ``async def`` handler to completion in turn (on a helper thread when the calling
  thread already runs an event loop);
  :meth:`Engine.arun` awaits them and runs sync ones in order (in a worker thread if asked);
* **fault isolation**: one failing handler never stops the others; both return the
  failures in subscription order, and the face raises them together as one
  :class:`~toolkit.core.exceptions.EventDispatchError`;
* **after-commit dispatch**: :data:`pending_events` holds what a face publishes inside an open
  unit of work (:class:`toolkit.patterns.UnitOfWork`), which dispatches it after commit and
  drops it on rollback.

Pure Python: no Django, no settings.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = [
    "Engine",
    "Failure",
    "Handler",
    "Subscription",
    "handler_name",
    "pending_events",
    "run_coroutine",
]

Handler = Callable[[Any], Any]
#: One failed handler: its subscription and the exception it raised.
Failure = tuple["Subscription", BaseException]
T = TypeVar("T")

#: Events held back by the innermost open unit of work of this context, as
#: ``(publisher, event, payload)``; ``None`` outside a unit of work. The unit of work calls
#: ``publisher.dispatch(event, payload)`` for each after commit.
pending_events: ContextVar[list[tuple[Any, Any, Any]] | None] = ContextVar(
    "toolkit_pending_events", default=None
)


def handler_name(handler: Callable[..., Any]) -> str:
    """``module.qualname`` of a handler, as error messages show it."""
    module = getattr(handler, "__module__", None) or ""
    qualname = getattr(handler, "__qualname__", None) or repr(handler)
    return f"{module}.{qualname}" if module else qualname


class Subscription:
    """One handler and what it listens to.

    ``key`` is what the face subscribed with (a name, a pattern, event classes, a predicate);
    ``test(route_key, event)`` decides whether an event goes to the handler. With
    ``per_event=False`` the answer depends on the route key alone and is cached per key;
    with ``per_event=True`` (predicates) it is asked again for every event.
    """

    __slots__ = ("handler", "is_async", "key", "name", "per_event", "test")

    def __init__(
        self,
        key: Any,
        handler: Handler,
        test: Callable[[Any, Any], bool],
        *,
        per_event: bool = False,
        name: str | None = None,
    ) -> None:
        self.key = key
        self.handler = handler
        self.test = test
        self.per_event = per_event
        self.is_async = inspect.iscoroutinefunction(handler)
        self.name = name if name is not None else handler_name(handler)

    def __repr__(self) -> str:
        return f"<Subscription {self.key!r} -> {self.name}>"


class Engine:
    """Ordered subscriptions with cached routes and fault-isolated delivery."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        # route key -> (candidate subscriptions, does any of them test per event?)
        self._routes: dict[Any, tuple[tuple[Subscription, ...], bool]] = {}
        self._lock = threading.Lock()

    # -- subscriptions -------------------------------------------------------------------

    def add(self, subscription: Subscription, *, unique: bool = False) -> Subscription:
        """Append ``subscription``; with ``unique=True`` an equal (key, handler) pair already
        subscribed is kept instead (a handler subscribed twice then runs once)."""
        with self._lock:
            if unique:
                for existing in self._subscriptions:
                    if (
                        existing.key == subscription.key
                        and existing.handler == subscription.handler
                    ):
                        return existing
            self._subscriptions.append(subscription)
            self._routes = {}
        return subscription

    def remove(self, condition: Callable[[Subscription], bool]) -> int:
        """Remove every subscription for which ``condition`` is true; return how many."""
        with self._lock:
            keep = [s for s in self._subscriptions if not condition(s)]
            removed = len(self._subscriptions) - len(keep)
            if removed:
                self._subscriptions = keep
                self._routes = {}
        return removed

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every subscription, in order."""
        return tuple(self._subscriptions)

    def route(self, route_key: Any, event: Any = None) -> tuple[Subscription, ...]:
        """The subscriptions ``event`` (routed by ``route_key``) goes to, in order."""
        found = self._routes.get(route_key)
        if found is None:
            with self._lock:
                candidates = tuple(
                    s for s in self._subscriptions if s.per_event or s.test(route_key, None)
                )
                found = (candidates, any(s.per_event for s in candidates))
                self._routes[route_key] = found
        candidates, per_event = found
        if not per_event:
            return candidates
        return tuple(s for s in candidates if not s.per_event or s.test(route_key, event))

    # -- delivery ------------------------------------------------------------------------

    def run(
        self, subscriptions: Sequence[Subscription], message: Any, *, parallel: bool = False
    ) -> list[Failure]:
        """Call each handler with ``message`` in order; return the failures (every handler
        runs whatever the others do).

        Sync handlers run in the calling thread (so Django's ORM works in them); each
        ``async def`` handler is driven to completion before the next one starts.
        ``parallel=True`` runs the sync handlers first, then all async ones concurrently.
        """
        now, deferred = _split(subscriptions, parallel)
        failures: list[tuple[int, Failure]] = []
        for index, sub in now:
            try:
                result = sub.handler(message)
                # Most handlers return None: skip the awaitable check (three isinstance
                # calls, one of them an ABC's) for them.
                if result is not None and _isawaitable(result):
                    run_coroutine(_await, result)
            except Exception as exc:
                failures.append((index, (sub, exc)))
        if deferred:
            failures += _failed(deferred, run_coroutine(_gather, deferred, message))
        return _in_order(failures) if failures else []

    async def arun(
        self,
        subscriptions: Sequence[Subscription],
        message: Any,
        *,
        sync_in_thread: bool = False,
        parallel: bool = False,
    ) -> list[Failure]:
        """Async :meth:`run`: await async handlers, call sync ones in order.

        ``sync_in_thread=True`` runs each sync handler in a worker thread
        (``asgiref.sync.sync_to_async``), which Django needs for ORM calls from async code.
        ``parallel=True`` runs the sync handlers first, then the async ones concurrently
        (``asyncio.gather``); failures are still reported in subscription order.
        """
        now, deferred = _split(subscriptions, parallel)
        failures: list[tuple[int, Failure]] = []
        for index, sub in now:
            try:
                await _call(sub, message, sync_in_thread)
            except Exception as exc:
                failures.append((index, (sub, exc)))
        if deferred:
            failures += _failed(deferred, await _gather(deferred, message))
        return _in_order(failures)


def _in_order(failures: list[tuple[int, Failure]]) -> list[Failure]:
    failures.sort(key=lambda item: item[0])
    return [failure for _, failure in failures]


async def _await(awaitable: Awaitable[Any]) -> None:
    await awaitable


Indexed = list[tuple[int, Subscription]]
_isawaitable = inspect.isawaitable


def _split(
    subscriptions: Sequence[Subscription], parallel: bool
) -> tuple[Iterable[tuple[int, Subscription]], Indexed]:
    """(handlers to run one by one, async handlers to run together), with their positions."""
    if not parallel:
        return enumerate(subscriptions), []
    indexed = list(enumerate(subscriptions))
    return [i for i in indexed if not i[1].is_async], [i for i in indexed if i[1].is_async]


def _failed(deferred: Indexed, results: list[BaseException | None]) -> list[tuple[int, Failure]]:
    return [
        (index, (sub, exc))
        for (index, sub), exc in zip(deferred, results, strict=True)
        if exc is not None
    ]


async def _gather(deferred: Indexed, message: Any) -> list[BaseException | None]:
    """Run the handlers concurrently; each one's exception (or None), in order."""

    async def one(sub: Subscription) -> BaseException | None:
        try:
            await _call(sub, message, False)
        except Exception as exc:
            return exc
        return None

    return list(await asyncio.gather(*(one(sub) for _, sub in deferred)))


async def _call(sub: Subscription, message: Any, sync_in_thread: bool) -> None:
    if sub.is_async:
        await sub.handler(message)
        return
    if sync_in_thread:
        from asgiref.sync import sync_to_async

        await sync_to_async(sub.handler)(message)
        return
    result = sub.handler(message)
    if inspect.isawaitable(result):  # a sync callable that returned an awaitable
        await result


def run_coroutine(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``func(*args)`` (an ``async def`` function) to completion from sync code, even
    when this thread runs a loop.

    Without a running loop: ``asgiref``'s ``async_to_sync`` when available (it reuses the
    outer loop when called inside ``sync_to_async``, as Django's async views do), else
    ``asyncio.run``. Under a running loop (a sync call from inside a coroutine), blocking that
    loop on itself would deadlock, so it runs on a helper thread with a loop of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        try:
            from asgiref.sync import async_to_sync
        except ImportError:  # pragma: no cover - asgiref comes with Django
            return asyncio.run(_as_coroutine(func, *args))
        return async_to_sync(func)(*args)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(_as_coroutine(func, *args))
        except BaseException as exc:
            box["error"] = exc

    # The helper thread runs in a copy of the caller's context, as async_to_sync does: the
    # handlers see the caller's context variables (event context, pending unit of work).
    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(target,), name="toolkit-bus-dispatch")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result


async def _as_coroutine(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    return await func(*args)
