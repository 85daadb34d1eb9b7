"""The ``celery`` EventBus backend: every handler runs as a Celery task.

Turn it on for every bus that does not choose its own backend::

    TOOLKIT = {"patterns": {"event_bus": "celery"}}

or for one bus with ``EventBus(backend="celery")``. ``emit`` then sends one
:func:`run_event_handler` task per matching handler, with the handler's import path, the event
name and the payload; a worker imports the handler and calls it (async handlers are run to
completion). So handlers must be module-level functions (importable in the worker) and payloads
serialisable by the task serializer (Celery's default, JSON, also takes datetimes, UUIDs and
decimals); both are checked before anything is sent. The task is a ``shared_task``: it
binds to your project's Celery app (``app.autodiscover_tasks()`` or ``include=
["toolkit.contrib.celery"]``).

Needs the extra: ``pip install "django-pattern-toolkit[celery]"``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from toolkit.core.exceptions import EventDispatchError, ValidationError

try:
    from celery import shared_task
    from kombu.exceptions import EncodeError
    from kombu.serialization import dumps as dumps_for_celery
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'The celery EventBus backend needs Celery: pip install "django-pattern-toolkit[celery]"'
    ) from exc

__all__ = ["TASK_NAME", "enqueue", "handler_path", "resolve_handler", "run_event_handler"]

TASK_NAME = "toolkit.run_event_handler"


def handler_path(handler: Callable[..., Any]) -> str:
    """``"package.module:function"`` for a module-level function; ValidationError otherwise."""
    module = getattr(handler, "__module__", None)
    qualname = getattr(handler, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise ValidationError(
            f"Handler {handler!r} cannot run as a Celery task: only module-level functions "
            "can be imported by the worker",
            field="handler",
            value=handler,
        )
    return f"{module}:{qualname}"


def resolve_handler(path: str) -> Callable[..., Any]:
    """Import the handler named by :func:`handler_path`."""
    import importlib

    module_name, _, qualname = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    # @bus.on returns the function itself, so the attribute is the handler.
    if not callable(target):
        raise TypeError(f"{path!r} is not callable")
    return target  # type: ignore[no-any-return]


@shared_task(name=TASK_NAME)  # type: ignore[untyped-decorator]
def run_event_handler(path: str, event: str, payload: Any) -> None:
    """Celery task: call the handler at ``path`` with ``payload`` (async handlers too)."""
    result = resolve_handler(path)(payload)
    if inspect.isawaitable(result):

        async def wait() -> None:
            await result

        asyncio.run(wait())


def enqueue(event: str, payload: Any, handlers: Sequence[Callable[..., Any]]) -> list[Any]:
    """Send one task per handler; return the ``AsyncResult`` objects.

    A payload that the task serializer cannot encode raises :class:`ValidationError` and
    nothing is sent; errors of individual sends (an unimportable handler, the broker) are
    gathered into :class:`EventDispatchError` after every other handler was sent.
    """
    serializer = str(run_event_handler.app.conf.task_serializer)
    try:
        # The serializer the tasks are sent with (kombu's JSON also takes datetimes, UUIDs and
        # decimals), so the check accepts exactly what the send would.
        dumps_for_celery(payload, serializer=serializer)  # type: ignore[no-untyped-call]
    except (EncodeError, TypeError, ValueError) as exc:
        reason = exc.args[0] if isinstance(exc, EncodeError) and exc.args else exc
        kind = "JSON-serialisable" if serializer == "json" else f"{serializer!r}-serialisable"
        raise ValidationError(
            f"Payload of event {event!r} is not {kind} for Celery: {payload!r} ({reason})",
            field="payload",
            value=payload,
        ) from exc
    results: list[Any] = []
    errors: list[tuple[str, BaseException]] = []
    for handler in handlers:
        name = f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)}"
        try:
            results.append(run_event_handler.delay(handler_path(handler), event, payload))
        except Exception as exc:
            errors.append((name, exc))
    if errors:
        raise EventDispatchError(event, errors)
    return results
