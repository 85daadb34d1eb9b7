"""The book's composition root: build a message bus with its dependencies injected.

::

    bus = bootstrap.bootstrap()                       # Django unit of work, e-mail, event bus
    bus.handle(commands.CreateBatch("b1", "LAMP", 100))

    bus = bootstrap.bootstrap(                        # the handler tests
        start_orm=False, uow=FakeUnitOfWork(), notifications=FakeNotifications(),
        publish=lambda *args: None,
    )

Each handler gets the dependencies its signature names (``uow``, ``notifications``,
``publish``), as the book's ``inject_dependencies`` does.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from demo.allocation import handlers, messagebus
from demo.allocation.notifications import AbstractNotifications, EmailNotifications
from demo.allocation.unit_of_work import AbstractUnitOfWork, DjangoUnitOfWork
from toolkit.patterns.observer import get_default_bus


def publish_to_event_bus(channel: str, event: Any) -> None:
    """The default ``publish``: emit ``allocation.<channel>`` with the event's fields on the
    toolkit's default event bus (held back until commit inside a unit of work; a Celery task
    per subscriber with ``TOOLKIT["patterns"]["event_bus"] = "celery"``). The book publishes to
    a Redis channel here."""
    get_default_bus().emit(f"allocation.{channel}", asdict(event))


def bootstrap(
    start_orm: bool = True,
    uow: AbstractUnitOfWork | None = None,
    notifications: AbstractNotifications | None = None,
    publish: Callable[..., Any] = publish_to_event_bus,
) -> messagebus.MessageBus:
    """A message bus for ``uow`` (a new :class:`DjangoUnitOfWork` by default).

    ``start_orm``: Django maps its models when it starts, so there is nothing to start; True
    checks that Django's models are loaded (``django.setup()`` ran), so a script that forgot it
    fails here rather than in a handler. Tests with fakes pass False.
    """
    if start_orm:
        from django.apps import apps

        apps.check_models_ready()
    if uow is None:
        uow = DjangoUnitOfWork()
    if notifications is None:
        notifications = EmailNotifications()
    dependencies = {"uow": uow, "notifications": notifications, "publish": publish}
    injected_event_handlers = {
        event_type: [inject_dependencies(handler, dependencies) for handler in event_handlers]
        for event_type, event_handlers in handlers.EVENT_HANDLERS.items()
    }
    injected_command_handlers = {
        command_type: inject_dependencies(handler, dependencies)
        for command_type, handler in handlers.COMMAND_HANDLERS.items()
    }
    return messagebus.MessageBus(
        uow=uow,
        event_handlers=injected_event_handlers,
        command_handlers=injected_command_handlers,
    )


def inject_dependencies(
    handler: Callable[..., Any], dependencies: dict[str, Any]
) -> Callable[[Any], Any]:
    """``handler`` with the dependencies its signature names bound."""
    params = inspect.signature(handler).parameters
    deps = {name: dependency for name, dependency in dependencies.items() if name in params}

    def injected(message: Any) -> Any:
        return handler(message, **deps)

    injected.__qualname__ = handler.__qualname__
    injected.__module__ = handler.__module__
    return injected
