"""The book's message bus: commands to their one handler, events to theirs, until none is left.

``handle(message)`` works through a queue: a command's handler runs and its exception
propagates (the caller learns that the command failed); an event's handlers run in order and
an exception is logged and does not stop the others. After each handler the bus takes the new
events from the unit of work (``uow.collect_new_events()``) and queues them.

Events go through the toolkit's event bus (:class:`toolkit.patterns.observer.EventBus`, the one
publish/subscribe core), subscribed under the event class's dotted name; it gives the ordering
and the fault isolation, and the ``EventDispatchError`` it gathers is logged handler by handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from demo.allocation import commands, events
from demo.allocation.unit_of_work import AbstractUnitOfWork
from toolkit.patterns.exceptions import EventDispatchError
from toolkit.patterns.observer import EventBus

logger = logging.getLogger(__name__)

Message = commands.Command | events.Event


def topic(event_type: type[events.Event]) -> str:
    """The event bus name of ``event_type``: its dotted path."""
    return f"{event_type.__module__}.{event_type.__qualname__}"


class MessageBus:
    """Dispatches commands and events to the handlers ``bootstrap`` wired."""

    def __init__(
        self,
        uow: AbstractUnitOfWork,
        event_handlers: dict[type[events.Event], list[Callable[[Any], Any]]],
        command_handlers: dict[type[commands.Command], Callable[[Any], Any]],
    ) -> None:
        self.uow = uow
        self.event_handlers = event_handlers
        self.command_handlers = command_handlers
        self.queue: list[Message] = []
        # In-process always: the injected handlers are closures, not importable task paths.
        self._events = EventBus(backend="default")
        for event_type, handlers in event_handlers.items():
            for handler in handlers:
                self._events.subscribe(topic(event_type), self._collecting(handler))

    def _collecting(self, handler: Callable[[Any], Any]) -> Callable[[Any], None]:
        """``handler``, then queue the events its unit of work recorded (before the next one
        opens the unit of work again with a fresh repository)."""

        def run(event: Any) -> None:
            handler(event)
            self.queue.extend(self.uow.collect_new_events())

        run.__qualname__ = getattr(handler, "__qualname__", repr(handler))
        run.__module__ = getattr(handler, "__module__", __name__)
        return run

    def handle(self, message: Message) -> None:
        """Handle ``message`` and every event it leads to."""
        self.queue = [message]
        while self.queue:
            message = self.queue.pop(0)
            if isinstance(message, events.Event):
                self.handle_event(message)
            elif isinstance(message, commands.Command):
                self.handle_command(message)
            else:
                raise TypeError(f"{message!r} was not an Event or Command")

    def handle_event(self, event: events.Event) -> None:
        """Run every handler of ``event``; log the ones that fail and go on."""
        try:
            self._events.dispatch(topic(type(event)), event)
        except EventDispatchError as exc:
            for name, error in exc.failures:
                logger.error("Exception handling event %s with %s", event, name, exc_info=error)

    def handle_command(self, command: commands.Command) -> None:
        """Run the handler of ``command``; its exception propagates (after logging)."""
        logger.debug("handling command %s", command)
        try:
            handler = self.command_handlers[type(command)]
            handler(command)
            self.queue.extend(self.uow.collect_new_events())
        except Exception:
            logger.exception("Exception handling command %s", command)
            raise
