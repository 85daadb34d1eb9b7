"""Event handlers: ``@subscribe_to(EventClass)`` functions called after each append.

As in djangoevents, put handlers in a ``handlers.py`` module of any installed app: the toolkit
imports ``<app>.handlers`` for every app in ``INSTALLED_APPS`` at start-up
(:func:`autodiscover_handlers`), after ``<app>.aggregates`` (:func:`autodiscover_aggregates`).
Handlers run after the append commits (immediately for the memory and Redis backends); every
handler runs, and failures are raised together as one
:class:`~toolkit.patterns.exceptions.EventDispatchError`.

.. code-block:: python

    # myapp/handlers.py
    from toolkit.eventsourcing import subscribe_to
    from myapp.aggregates import Order

    @subscribe_to(Order.Paid)
    def notify_accounting(event):
        ...
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from toolkit.core.exceptions import EventDispatchError
from toolkit.eventsourcing.store import StoredEvent

Handler = Callable[[StoredEvent], Any]

_lock = threading.Lock()
_handlers: dict[str, list[Handler]] = {}


def event_type_of(target: Any) -> str:
    """The event type string of an event class (its ``event_type``) or of a string."""
    if isinstance(target, str):
        return target
    event_type = getattr(target, "event_type", None)
    if isinstance(event_type, str) and event_type:
        return event_type
    raise TypeError(
        f"subscribe_to() takes event classes with an 'event_type' or event type names, "
        f"not {target!r}"
    )


def subscribe_to(*targets: Any) -> Callable[[Handler], Handler]:
    """Decorator: call the function with every stored event of the given event classes
    (``Order.Paid``) or event type names (``"OrderPaid"``)."""
    if not targets:
        raise TypeError("subscribe_to() needs at least one event class or event type name")
    event_types = [event_type_of(t) for t in targets]

    def decorate(func: Handler) -> Handler:
        subscribe(func, *event_types)
        return func

    return decorate


def subscribe(handler: Handler, *event_types: str) -> None:
    """Register ``handler`` for ``event_types`` (a handler registered twice runs once);
    ``"*"`` (:data:`ANY_EVENT`) subscribes it to every event."""
    with _lock:
        for event_type in event_types:
            handlers = _handlers.setdefault(event_type, [])
            if handler not in handlers:
                handlers.append(handler)


def unsubscribe(handler: Handler, *event_types: str) -> None:
    """Remove ``handler`` from ``event_types`` (all of them when none is given)."""
    with _lock:
        for event_type in event_types or list(_handlers):
            handlers = _handlers.get(event_type, [])
            if handler in handlers:
                handlers.remove(handler)


#: The event type that matches every event: its handlers run after the specific ones.
ANY_EVENT = "*"


def handlers_for(event_type: str) -> list[Handler]:
    """The handlers subscribed to ``event_type`` then those subscribed to every event
    (:data:`ANY_EVENT`), in subscription order; a handler appears once."""
    handlers = list(_handlers.get(event_type, ()))
    if event_type != ANY_EVENT:
        handlers += [h for h in _handlers.get(ANY_EVENT, ()) if h not in handlers]
    return handlers


def has_handlers() -> bool:
    """Whether any handler is subscribed (lets the append path skip dispatching)."""
    return any(_handlers.values())


def dispatch(events: Sequence[StoredEvent], extra: Sequence[tuple[str, Handler]] = ()) -> None:
    """Call the handlers of each event (and ``extra`` ``(event_type, handler)`` pairs); raise
    EventDispatchError after all ran if any raised."""
    errors: list[tuple[str, BaseException]] = []
    for event in events:
        handlers = handlers_for(event.event_type)
        handlers += [h for t, h in extra if t == event.event_type and h not in handlers]
        for handler in handlers:
            try:
                handler(event)
            except Exception as exc:
                errors.append((getattr(handler, "__qualname__", repr(handler)), exc))
    if errors:
        raise EventDispatchError(events[0].event_type if len(events) == 1 else "events", errors)


def autodiscover_aggregates() -> None:
    """Import ``aggregates`` of every installed app (djangoevents' convention: aggregate
    definitions live in ``<app>/aggregates.py``), so that every aggregate type is registered
    in ``toolkit.registry.aggregates`` before handlers, schema versions and the panel use it."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("aggregates")


def autodiscover_handlers() -> None:
    """Import ``handlers`` of every installed app (djangoevents' convention)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("handlers")
