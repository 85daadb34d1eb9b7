"""What an undo would change, found by running the command's own ``undo()`` in a dry run.

:func:`undo_preview` rebuilds the command of an execute row, runs its ``undo()`` inside a
transaction that is always rolled back, and records every row the undo inserts, updates or
deletes, with the fields before and after. It then checks each of those objects for changes
made since the command ran, and :func:`checked_undo` refuses the real undo when there are any
(unless forced), so a revert never silently overwrites later work (django-reversion #874).

How the rows are found: a ``connection.execute_wrapper`` sees each ``INSERT`` / ``UPDATE`` /
``DELETE`` the undo sends, reads the rows its ``WHERE`` clause selects just before and after
the statement (same connection, same transaction) and maps the table back to its model.
Writes outside the database (a mail, a cache, another service) are neither seen nor taken
back, unless ``undo()`` defers them with ``transaction.on_commit`` (which the rollback
discards).

A command whose ``undo()`` acts outside the database sets ``undo_dry_run = False``: its
preview is then the undo state recorded at execution, and no dry run happens.

"Changed since" is evidence the toolkit records for every object: a state transition audited
after the command, or a ``DateTimeField(auto_now=True)`` newer than the command's audit row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from toolkit.core.exceptions import (
    AlreadyUndone,
    NotFound,
    PatternError,
    UndoConflict,
    UndoNotSupported,
)

if TYPE_CHECKING:
    from django.db.models import Model

    from toolkit.models import CommandAuditLog

__all__ = [
    "FieldChange",
    "ObjectChange",
    "UndoPreview",
    "checked_undo",
    "undo_preview",
]

Action = Literal["create", "update", "delete"]

_UPDATE = re.compile(r'^\s*UPDATE\s+"?(\w+)"?\s+SET\s+(.*?)\s+WHERE\s+(.*)$', re.S | re.I)
_DELETE = re.compile(r'^\s*DELETE\s+FROM\s+"?(\w+)"?\s+WHERE\s+(.*)$', re.S | re.I)
_INSERT = re.compile(r'^\s*INSERT\s+INTO\s+"?(\w+)"?\s*\((.*?)\)\s*VALUES', re.S | re.I)


@dataclass(frozen=True)
class FieldChange:
    """One field of one object: its value now and after the undo."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ObjectChange:
    """One object the undo creates, updates or deletes (``model`` is ``app_label.model``)."""

    model: str
    pk: str
    action: Action
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class UndoPreview:
    """What undoing execute row ``audit_id`` would change now, and whether it may.

    ``error`` says why the undo cannot run now (already undone, not undoable, its ``undo()``
    refuses...); ``conflicts`` lists the objects changed since the command ran, one sentence
    each. The undo can succeed now when ``error`` is None; it needs ``force`` when there are
    conflicts.
    """

    audit_id: int
    command: str
    changes: tuple[ObjectChange, ...] = ()
    conflicts: tuple[str, ...] = ()
    error: str | None = None
    #: False when the command's ``undo_dry_run`` is off: ``changes`` is then empty and
    #: ``undo_state`` (what the execution recorded for its undo) is all there is to show.
    dry_run: bool = True
    undo_state: Any = None
    #: The error :func:`checked_undo` raises for ``error`` (``AlreadyUndone``, ...).
    refusal: PatternError | None = field(default=None, compare=False, repr=False)

    @property
    def can_undo(self) -> bool:
        """Whether the undo would succeed now (with ``force`` if there are conflicts)."""
        return self.error is None


@dataclass
class _Recorder:
    """The execute wrapper of the dry run: reads the rows each write touches."""

    connection: Any
    changes: list[ObjectChange] = field(default_factory=list)
    busy: bool = False

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if self.busy or many:
            return execute(sql, params, many, context)
        params = list(params or ())
        if match := _UPDATE.match(sql):
            table, assignments, where = match.groups()
            where_params = params[assignments.count("%s") :]
            before = self._rows(table, where, where_params)
            result = execute(sql, params, many, context)
            after = self._rows_by_pk(table, before)
            self._record_update(table, before, after)
            return result
        if match := _DELETE.match(sql):
            table, where = match.groups()
            before = self._rows(table, where, params)
            result = execute(sql, params, many, context)
            for row in before:
                self._record(table, row, "delete", {name: (v, None) for name, v in row.items()})
            return result
        if match := _INSERT.match(sql):
            table, columns = match.groups()
            names = [c.strip().strip('"`') for c in columns.split(",")]
            result = execute(sql, params, many, context)
            values = dict(zip(names, params, strict=False))
            self._record(table, values, "create", {n: (None, v) for n, v in values.items()})
            return result
        return execute(sql, params, many, context)

    def _select(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        self.busy = True
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, params)
                names = [col[0] for col in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            self.busy = False

    def _rows(self, table: str, where: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        quoted = self.connection.ops.quote_name(table)
        return self._select(f"SELECT * FROM {quoted} WHERE {where}", params)

    def _rows_by_pk(self, table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        model = _model_of(table)
        if model is None or not rows:
            return []
        column = model._meta.pk.column
        quoted = self.connection.ops.quote_name
        marks = ", ".join(["%s"] * len(rows))
        return self._select(
            f"SELECT * FROM {quoted(table)} WHERE {quoted(column)} IN ({marks})",
            [row[column] for row in rows],
        )

    def _record_update(
        self, table: str, before: list[dict[str, Any]], after: list[dict[str, Any]]
    ) -> None:
        model = _model_of(table)
        column = model._meta.pk.column if model is not None else None
        after_by_pk = {row.get(column): row for row in after} if column else {}
        for old in before:
            new = after_by_pk.get(old.get(column), old) if column else old
            diff = {name: (value, new.get(name)) for name, value in old.items()}
            diff = {name: pair for name, pair in diff.items() if pair[0] != pair[1]}
            if diff:
                self._record(table, old, "update", diff)

    def _record(
        self,
        table: str,
        row: dict[str, Any],
        action: Action,
        diff: dict[str, tuple[Any, Any]],
    ) -> None:
        model = _model_of(table)
        names = _field_names(model) if model is not None else {}
        pk_column = model._meta.pk.column if model is not None else "id"
        label = model._meta.label_lower if model is not None else table
        pk = row.get(pk_column)
        self.changes.append(
            ObjectChange(
                model=label,
                pk="" if pk is None else str(pk),
                action=action,
                fields=tuple(
                    FieldChange(names.get(column, column), before, after)
                    for column, (before, after) in sorted(diff.items())
                ),
            )
        )


def _model_of(table: str) -> type[Model] | None:
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model
    return None


def _field_names(model: type[Model]) -> dict[str, str]:
    """Column → field name (``customer_id`` → ``customer``)."""
    return {f.column: f.name for f in model._meta.concrete_fields}


class _Rollback(Exception):
    """Leaves the dry run's transaction; it is always rolled back."""


def _dry_run(command: Any, using: str) -> tuple[list[ObjectChange], PatternError | None]:
    """Run ``command``'s raw ``undo()`` in a transaction that is rolled back."""
    from django.db import connections, transaction

    connection = connections[using]
    recorder = _Recorder(connection)
    error: PatternError | None = None
    try:
        with transaction.atomic(using=using):
            with connection.execute_wrapper(recorder):
                # Depth > 0: the wrapper runs the subclass's undo() itself, no audit row.
                command._toolkit_depth += 1
                try:
                    command.undo()
                except PatternError as exc:
                    error = exc
                except Exception as exc:  # the real undo would fail the same way
                    error = UndoNotSupported(
                        command.command_path(), f"its undo() raised {type(exc).__name__}: {exc}"
                    )
                finally:
                    command._toolkit_depth -= 1
            raise _Rollback
    except _Rollback:
        pass
    return recorder.changes, error


def _conflicts(
    row: CommandAuditLog, changes: Sequence[ObjectChange], *, lock: bool = False
) -> list[str]:
    """Why each changed object counts as modified since the command's row was written.

    With ``lock``, each object's row is locked first (``SELECT ... FOR UPDATE``), so no
    transition of it can commit between this check and the undo."""
    from django.apps import apps
    from django.db.models import DateTimeField

    from toolkit.models import StateTransitionAudit

    found: list[str] = []
    for change in changes:
        if change.action == "create" or not change.pk:
            continue
        if lock:
            _lock(change)
        later = (
            StateTransitionAudit.objects.filter(
                model=change.model, object_id=change.pk, created_at__gt=row.created_at
            )
            .order_by("created_at")
            .first()
        )
        if later is not None:
            found.append(
                f"{change.model} #{change.pk} changed since the command ran: transition "
                f"{later.transition!r} ({later.from_state} → {later.to_state}) at "
                f"{later.created_at.isoformat()}"
            )
            continue
        try:
            model = apps.get_model(change.model)
        except (LookupError, ValueError):
            continue
        if not any(isinstance(f, DateTimeField) and f.auto_now for f in model._meta.fields):
            continue
        stamps = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, DateTimeField) and f.auto_now
        ]
        # Read through the ORM: raw rows hold SQLite's text, not datetimes.
        current = model._default_manager.filter(pk=change.pk).values(*stamps).first() or {}
        for name in stamps:
            value = current.get(name)
            if isinstance(value, datetime) and value > row.created_at:
                found.append(
                    f"{change.model} #{change.pk} changed since the command ran: "
                    f"{name} is {value.isoformat()}"
                )
                break
    return found


def _lock(change: ObjectChange) -> None:
    from django.apps import apps

    try:
        model = apps.get_model(change.model)
    except (LookupError, ValueError):
        return
    manager = model._default_manager
    list(manager.select_for_update().filter(pk=change.pk).values_list("pk", flat=True))


def undo_preview(audit_id: Any, *, lock: bool = False) -> UndoPreview:
    """Dry-run the undo of execute row ``audit_id``: what it would change, and may it now.

    Writes nothing: the command's ``undo()`` runs inside a transaction that is rolled back. A
    row that cannot be undone (missing, an undo row, failed, not undoable, already undone,
    not rebuildable, or whose ``undo()`` refuses now) gives a preview with ``error`` set.
    ``lock`` (inside a transaction) locks the changed objects' rows before checking them for
    conflicts, as :func:`checked_undo` does.
    """
    from toolkit.models import CommandAuditLog
    from toolkit.patterns.command import Command

    row = CommandAuditLog.objects.filter(pk=audit_id).first()
    if row is None:
        return _refused(int(audit_id), "", NotFound("CommandAuditLog", audit_id))
    refusal = _not_undoable(row)
    if refusal is not None:
        return _refused(row.pk, row.command, refusal)
    try:
        command = Command.from_audit(row)
    except PatternError as exc:
        return _refused(row.pk, row.command, exc)
    if not command.undo_dry_run:
        return UndoPreview(row.pk, row.command, dry_run=False, undo_state=row.undo_state)
    changes, error = _dry_run(command, command._db())
    if error is not None:
        return _refused(row.pk, row.command, error, changes=changes, state=row.undo_state)
    conflicts = tuple(_conflicts(row, changes, lock=lock))
    return UndoPreview(row.pk, row.command, tuple(changes), conflicts, undo_state=row.undo_state)


def _refused(
    audit_id: int,
    command: str,
    refusal: PatternError,
    *,
    changes: Sequence[ObjectChange] = (),
    state: Any = None,
) -> UndoPreview:
    reason = getattr(refusal, "reason", None) or str(refusal)
    if isinstance(refusal, AlreadyUndone):
        reason = f"it was already undone (audit row {audit_id})"
    elif isinstance(refusal, NotFound):
        reason = f"no command audit row {refusal.id!r}"
    return UndoPreview(
        audit_id, command, tuple(changes), error=reason, undo_state=state, refusal=refusal
    )


def _not_undoable(row: CommandAuditLog) -> PatternError | None:
    from toolkit.patterns.command import undo_refusal

    refusal = undo_refusal(row)
    if refusal is None and not row.can_undo:
        return AlreadyUndone(row.command, row.pk)
    return refusal


def checked_undo(audit_id: Any, *, user: Any = None, force: bool = False) -> CommandAuditLog:
    """Undo execute row ``audit_id`` only if its preview allows it; return the undo row.

    Raises the preview's refusal (:class:`AlreadyUndone`, :class:`UndoNotSupported`,
    :class:`NotFound`, ...) when the undo cannot succeed now and :class:`UndoConflict` when
    its objects changed since the command ran and ``force`` is false, in both cases before
    ``undo()`` runs, so nothing is written (no failed undo row).

    The preview, the check and the undo run in one transaction that holds the lock of the
    command's audit row (the lock :func:`~toolkit.patterns.command_audit.audited_undo` takes)
    and of every object the undo changes, so neither a concurrent undo nor a transition of
    those objects can slip in between the check and the undo. A failure of ``undo()`` itself
    is recorded as a failed undo row once that transaction has rolled back, as
    :func:`~toolkit.patterns.command.undo_from_audit` records it.
    """
    import time

    from django.db import router, transaction

    from toolkit.eventsourcing.context import event_context
    from toolkit.models import CommandAuditLog
    from toolkit.patterns.command import undo_from_audit
    from toolkit.patterns.command_audit import current_trace, undo_fields, write_failure

    using = router.db_for_write(CommandAuditLog)
    started = time.perf_counter()
    undo_error: BaseException | None = None
    # The undo's trace, fixed here: audited_undo inside records the same one, and so does the
    # failure row written again below once the transaction has rolled back.
    trace = current_trace()
    try:
        with event_context(correlation_id=trace.correlation_id), transaction.atomic(using=using):
            rows = CommandAuditLog.objects.using(using)
            list(rows.select_for_update().filter(pk=audit_id).values_list("pk", flat=True))
            preview = undo_preview(audit_id, lock=True)
            if preview.refusal is not None:
                raise preview.refusal
            if preview.conflicts and not force:
                raise UndoConflict(preview.command, preview.audit_id, preview.conflicts)
            try:
                return undo_from_audit(audit_id, user=user)
            except AlreadyUndone:
                raise
            except Exception as exc:
                undo_error = exc
                raise
    except Exception as exc:
        if exc is undo_error:
            # Its failure row was written inside this transaction and rolled back with it.
            row = rows.get(pk=audit_id)
            write_failure(
                using, error=exc, started=started, **undo_fields(row.command, row, user, trace)
            )
        raise
