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

from collections.abc import Callable, Sequence
from typing import Any

from toolkit.core.bus import Engine, Subscription
from toolkit.core.exceptions import EventDispatchError
from toolkit.eventsourcing.context import event_context
from toolkit.eventsourcing.store import StoredEvent

Handler = Callable[[StoredEvent], Any]

#: The event type that matches every event: its handlers run after the specific ones.
ANY_EVENT = "*"

#: The process's event handlers, on the toolkit's one publish/subscribe engine
#: (:mod:`toolkit.core.bus`): this module is its djangoevents face, routing by event type.
_engine = Engine()


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


def _subscription(event_type: str, handler: Handler) -> Subscription:
    if event_type == ANY_EVENT:
        test: Callable[[Any, Any], bool] = lambda _routed, _event: True  # noqa: E731
    else:
        test = lambda routed, _event: routed == event_type  # noqa: E731
    return Subscription(
        event_type, handler, test, name=getattr(handler, "__qualname__", None) or repr(handler)
    )


def subscribe(handler: Handler, *event_types: str) -> None:
    """Register ``handler`` for ``event_types`` (a handler registered twice runs once);
    ``"*"`` (:data:`ANY_EVENT`) subscribes it to every event."""
    for event_type in event_types:
        _engine.add(_subscription(event_type, handler), unique=True)


def unsubscribe(handler: Handler, *event_types: str) -> None:
    """Remove ``handler`` from ``event_types`` (all of them when none is given)."""
    _engine.remove(lambda s: s.handler == handler and (not event_types or s.key in event_types))


def clear() -> None:
    """Forget every handler (tests only)."""
    _engine.remove(lambda s: True)


def _route(event_type: str) -> list[Subscription]:
    """The engine's subscriptions for ``event_type``: the specific ones, then those of every
    event (:data:`ANY_EVENT`) whose handler is not already among them, each in order."""
    subs = _engine.route(event_type)
    specific = [s for s in subs if s.key != ANY_EVENT]
    seen = [s.handler for s in specific]
    if event_type != ANY_EVENT:
        specific += [s for s in subs if s.key == ANY_EVENT and s.handler not in seen]
    return specific


def handlers_for(event_type: str) -> list[Handler]:
    """The handlers subscribed to ``event_type`` then those subscribed to every event
    (:data:`ANY_EVENT`), in subscription order; a handler appears once."""
    return [s.handler for s in _route(event_type)]


def has_handlers() -> bool:
    """Whether any handler is subscribed (lets the append path skip dispatching)."""
    return bool(_engine.subscriptions)


def dispatch(events: Sequence[StoredEvent], extra: Sequence[tuple[str, Handler]] = ()) -> None:
    """Call the handlers of each event (and ``extra`` ``(event_type, handler)`` pairs); raise
    EventDispatchError after all ran if any raised. ``async def`` handlers are awaited.

    Each event's handlers run in its :func:`~toolkit.eventsourcing.context.event_context`:
    what they append carries the event's correlation id and the event's id as causation id
    (arguments given to ``append`` still win), and a command they execute records both, so the
    panel's correlation view nests the follow-ups under the event that caused them."""
    errors: list[tuple[str, BaseException]] = []
    for event in events:
        subs = _route(event.event_type)
        handlers = [s.handler for s in subs]
        more = [
            _subscription(t, h) for t, h in extra if t == event.event_type and h not in handlers
        ]
        if not subs and not more:
            continue
        with event_context(
            correlation_id=event.correlation_id or None, causation_id=str(event.event_id)
        ):
            failures = _engine.run((*subs, *more), event)
        errors.extend((sub.name, exc) for sub, exc in failures)
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
