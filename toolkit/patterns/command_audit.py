"""The Django seam of :class:`~toolkit.patterns.command.Command`: audited execute and undo.

Each runs the command's own code and inserts its ``CommandAuditLog`` row in one
``transaction.atomic``; a failure rolls the command's writes back and is recorded afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from toolkit.core.exceptions import AlreadyUndone
from toolkit.patterns.command_state import to_json
from toolkit.patterns.state_persistence import audit_user_id

if TYPE_CHECKING:
    from toolkit.patterns.command import Command

__all__ = ["audited_execute", "audited_undo", "write_failure"]

T = TypeVar("T")


def audited_execute(
    command: Command[T],
    raw: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    path: str,
    params: dict[str, Any],
    acting: Any,
) -> T:
    """Run ``raw`` and insert the execute row in one transaction; record a failure after."""
    from django.db import transaction

    from toolkit.models import CommandAuditLog

    using = command._db()
    undoable = command.is_undoable()
    started = time.perf_counter()
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
                duration_ms=(time.perf_counter() - started) * 1000,
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
    """
    from django.db import IntegrityError, transaction

    from toolkit.models import CommandAuditLog

    original = command.audit_log
    assert original is not None
    using = command._db()
    rows = CommandAuditLog.objects.using(using)
    started = time.perf_counter()
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
                        command=path,
                        kind=CommandAuditLog.Kind.UNDO,
                        params=original.params,
                        user_id=audit_user_id(acting),
                        success=True,
                        undoable=False,
                        undo_of_id=original.pk,
                        duration_ms=(time.perf_counter() - started) * 1000,
                    )
            except IntegrityError as exc:
                # tk_cal_one_successful_undo: another undo of this row committed first.
                raise AlreadyUndone(path, original.pk) from exc
    except AlreadyUndone:
        raise
    except Exception as exc:
        write_failure(
            using,
            command=path,
            kind=CommandAuditLog.Kind.UNDO,
            params=original.params,
            user_id=audit_user_id(acting),
            undoable=False,
            error=exc,
            started=started,
            undo_of_id=original.pk,
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
