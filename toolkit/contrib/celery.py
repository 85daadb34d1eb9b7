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

**Retries.** A handler that raises is retried by Celery with exponential backoff (1 s, 2 s,
4 s, … up to 5 minutes, with jitter), :data:`MAX_RETRIES` times; the task acknowledges its
message only once it finished (``acks_late``), so a worker that dies mid-handler has the
message redelivered. Change the limits per project with Celery's task annotations::

    app.conf.task_annotations = {"toolkit.run_event_handler": {"max_retries": 10}}

**Idempotency keys.** Each task carries a key, ``"<emission>:<handler path>"``, where the
emission is the payload's ``event_id`` when it has one (an event published twice runs each
handler once) and a fresh UUID otherwise. The worker records the key
(:class:`~toolkit.models.HandledEvent`) **in the handler's own database transaction**: a
retried or redelivered task whose run already committed does nothing, and a run that failed
left no key, so its retry runs again. Handlers that only write to the database are therefore
applied once; side effects outside it (e-mails, HTTP calls) are at least once.

Needs the extra: ``pip install "django-pattern-toolkit[celery]"``.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
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

__all__ = [
    "MAX_RETRIES",
    "TASK_NAME",
    "enqueue",
    "handler_path",
    "idempotency_key",
    "resolve_handler",
    "run_event_handler",
]

TASK_NAME = "toolkit.run_event_handler"
#: Retries of a failing handler before Celery gives up on the task.
MAX_RETRIES = 5


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


def _call(handler: Callable[..., Any], payload: Any) -> None:
    result = handler(payload)
    if inspect.isawaitable(result):

        async def wait() -> None:
            await result

        asyncio.run(wait())


@shared_task(  # type: ignore[untyped-decorator]
    name=TASK_NAME,
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=1,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
)
def run_event_handler(path: str, event: str, payload: Any, key: str = "") -> None:
    """Celery task: call the handler at ``path`` with ``payload`` (async handlers too), once
    per idempotency ``key`` (see the module docstring); an empty key skips the check."""
    handler = resolve_handler(path)
    if not key:
        _call(handler, payload)
        return
    from django.apps import apps
    from django.db import transaction

    # Looked up in the app registry rather than imported: the pure EventBus imports this
    # module to send tasks, and must not pull the toolkit's models in with it; only the
    # worker running the task needs the table.
    handled_event = apps.get_model("toolkit", "HandledEvent")
    with transaction.atomic():
        _, created = handled_event.objects.get_or_create(
            key=key, defaults={"handler": path[:255], "event": event[:255]}
        )
        if created:
            _call(handler, payload)


def idempotency_key(payload: Any, handler: Callable[..., Any], *, emission: str) -> str:
    """``"<emission>:<handler path>"``: the emission is the payload's ``event_id`` when it is a
    mapping that has one, else ``emission`` (one UUID per ``emit``)."""
    event_id = payload.get("event_id") if isinstance(payload, dict) else None
    base = str(event_id) if event_id else emission
    return f"{base}:{handler_path(handler)}"[:255]


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
    emission = str(uuid.uuid4())
    for handler in handlers:
        name = f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)}"
        try:
            key = idempotency_key(payload, handler, emission=emission)
            results.append(run_event_handler.delay(handler_path(handler), event, payload, key))
        except Exception as exc:
            errors.append((name, exc))
    if errors:
        raise EventDispatchError(event, errors)
    return results
