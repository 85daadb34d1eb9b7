"""The Django seam of :class:`~toolkit.patterns.command.Command`: audited execute and undo.

Each runs the command's own code and inserts its ``CommandAuditLog`` row in one
``transaction.atomic``; a failure rolls the command's writes back and is recorded afterwards.

Both run inside the event store's correlation context
(:func:`~toolkit.eventsourcing.context.event_context`): the enclosing one's correlation id when
a request or a handler set one, else a new one. The row records it as ``correlation_id`` and
every event the command appends carries it, so the panel's correlation view shows the command
and its events together. A command run by an event handler also records that event's id as
``causation_id`` (the view nests the command under the event).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from toolkit.core.exceptions import AlreadyUndone
from toolkit.patterns.command_state import to_json
from toolkit.patterns.state_persistence import audit_user_id

if TYPE_CHECKING:
    from toolkit.patterns.command import Command

__all__ = ["audited_execute", "audited_undo", "write_failure"]

T = TypeVar("T")


@dataclass(frozen=True)
class _Trace:
    """Where a command run sits in its request: recorded on its audit rows."""

    correlation_id: str
    causation_id: str

    def fields(self) -> dict[str, str]:
        return {"correlation_id": self.correlation_id, "causation_id": self.causation_id}


def current_trace() -> _Trace:
    """The enclosing correlation id (or a new one) and causation id (the event whose handler
    runs the command, if any)."""
    from toolkit.eventsourcing.context import current_context

    outer = current_context()
    return _Trace(outer.correlation_id or uuid.uuid4().hex, outer.causation_id)


@contextmanager
def _correlated() -> Iterator[_Trace]:
    """:func:`current_trace`, recorded on the command's rows. Inside, the correlation stays
    active for the events the command appends and the causation is cleared: they nest under
    the command (its time window) in the panel's correlation view, and the command under its
    causing event."""
    from toolkit.eventsourcing.context import event_context

    trace = current_trace()
    with event_context(correlation_id=trace.correlation_id, causation_id=""):
        yield trace


def undo_fields(command: str, original: Any, acting: Any, trace: _Trace) -> dict[str, Any]:
    """The columns an undo row of execute row ``original`` (by ``command``, a dotted path)
    shares, whether it succeeded or failed (the failure is recorded after its transaction
    rolled back)."""
    from toolkit.models import CommandAuditLog

    return {
        "command": command,
        "kind": CommandAuditLog.Kind.UNDO,
        "params": original.params,
        "user_id": audit_user_id(acting),
        "undoable": False,
        "undo_of_id": original.pk,
        **trace.fields(),
    }


def _timing(started: float, started_at: datetime) -> dict[str, Any]:
    """``duration_ms`` (monotonic clock) and ``created_at`` = the wall-clock start plus that
    duration, so ``created_at - duration_ms`` is exactly when the command began: the events it
    appended fall between the two (the panel's correlation view nests them by that)."""
    duration = (time.perf_counter() - started) * 1000
    return {"duration_ms": duration, "created_at": started_at + timedelta(milliseconds=duration)}


def audited_execute(
    command: Command[T],
    raw: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    path: str,
    params: dict[str, Any],
    acting: Any,
) -> T:
    """Run ``raw`` and insert the execute row in one transaction; record a failure after
    (both rows carry the correlation id the command's events carry)."""
    from django.db import transaction
    from django.utils import timezone

    from toolkit.models import CommandAuditLog

    started, started_at = time.perf_counter(), timezone.now()
    with _correlated() as trace:
        using = command._db()
        undoable = command.is_undoable()
        try:
            with transaction.atomic(using=using):
                result = raw(command, *args, **kwargs)
                row = CommandAuditLog.objects.using(using).create(
                    command=path,
                    kind=CommandAuditLog.Kind.EXECUTE,
                    params=params,
                    result=to_json(command.audit_result(result)),
                    undo_state=to_json(command.undo_state()) if undoable else None,
                    user_id=audit_user_id(acting),
                    success=True,
                    undoable=undoable,
                    **trace.fields(),
                    **_timing(started, started_at),
                )
        except Exception as exc:
            write_failure(
                using,
                command=path,
                kind=CommandAuditLog.Kind.EXECUTE,
                params=params,
                user_id=audit_user_id(acting),
                undoable=undoable,
                error=exc,
                started=started,
                **trace.fields(),
            )
            raise
        command.audit_log = row
        return result


def audited_undo(
    command: Command[Any],
    raw: Callable[..., None],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    path: str,
    acting: Any,
) -> None:
    """Lock the execute row, then run ``raw`` and insert the undo row, in one transaction.

    Concurrent undos of one command queue on the lock of the original row
    (``SELECT ... FOR UPDATE``; SQLite runs one write transaction at a time anyway): the first
    one undoes, each later one then sees its committed undo row and raises
    :class:`AlreadyUndone` before running ``undo()``, writing nothing (an ``undo()`` that
    fails once the work is gone never runs twice, so it records no spurious failure). The
    partial unique constraint stays as the backstop for undo rows written without the lock.
    The undo runs in its own correlation context, as :func:`audited_execute` does.
    """
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from toolkit.models import CommandAuditLog

    with _correlated() as trace:
        original = command.audit_log
        assert original is not None
        using = command._db()
        rows = CommandAuditLog.objects.using(using)
        started, started_at = time.perf_counter(), timezone.now()
        try:
            with transaction.atomic(using=using):
                list(rows.select_for_update().filter(pk=original.pk).values_list("pk", flat=True))
                if rows.filter(undo_of_id=original.pk, success=True).exists():
                    raise AlreadyUndone(path, original.pk)
                raw(command, *args, **kwargs)
                try:
                    # A savepoint, so the constraint violation leaves a usable transaction
                    # to roll back with AlreadyUndone (PostgreSQL aborts it otherwise).
                    with transaction.atomic(using=using):
                        row = rows.create(
                            success=True,
                            **undo_fields(path, original, acting, trace),
                            **_timing(started, started_at),
                        )
                except IntegrityError as exc:
                    # tk_cal_one_successful_undo: another undo of this row committed first.
                    raise AlreadyUndone(path, original.pk) from exc
        except AlreadyUndone:
            raise
        except Exception as exc:
            write_failure(
                using, error=exc, started=started, **undo_fields(path, original, acting, trace)
            )
            raise
        command.undo_log = row


def write_failure(using: str, *, error: BaseException, started: float, **fields: Any) -> None:
    """Record a failed execute/undo after its transaction rolled back."""
    import logging

    from toolkit.models import CommandAuditLog

    try:
        CommandAuditLog.objects.using(using).create(
            success=False,
            error=f"{type(error).__name__}: {error}",
            duration_ms=(time.perf_counter() - started) * 1000,
            **fields,
        )
    except Exception:  # the caller re-raises the command's own error, which matters more
        logging.getLogger("toolkit.patterns.command").exception(
            "Could not record the failure of %s", fields.get("command")
        )
