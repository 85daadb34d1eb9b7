"""Command: encapsulated, audited, optionally reversible business operations.

::

    class CreateOrderCommand(Command[Order]):
        def __init__(self, user_id: int, items: list):
            self.user_id = user_id
            self.items = items
            self._created_order = None

        def execute(self) -> Order:
            self._created_order = Order.objects.create(user_id=self.user_id, items=self.items)
            return self._created_order

        def undo(self) -> None:
            if self._created_order:
                self._created_order.delete()

    cmd = CreateOrderCommand(user_id=42, items=["Widget"])
    order = cmd.execute(user=request.user)   # user= is optional (default: cmd.user)
    undo_from_audit(cmd.audit_log.pk)         # in another process: rebuilt from the row

With auditing on (``Command.audit`` or the ``audit`` setting), ``execute`` runs the command and
inserts its :class:`~toolkit.models.CommandAuditLog` row in one ``transaction.atomic``: the
params (the constructor's arguments, as JSON), the result, the user, the duration and what the
undo needs (:meth:`Command.undo_state`). If the command raises, its writes roll back, a failed
row (``success=False`` and the error) is written afterwards, and the exception is re-raised.

An undo is its own row (``kind="undo"``, ``undo_of`` = the original) written in the undo's
transaction; a partial unique constraint lets only one successful undo exist per original, so
of two concurrent undos one commits and the other raises :class:`AlreadyUndone` with its writes
rolled back.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from toolkit.contrib.otel import span
from toolkit.core.exceptions import (
    AlreadyUndone,
    CommandNotRebuildable,
    NotFound,
    UndoNotSupported,
)
from toolkit.core.validation import check_json
from toolkit.patterns.command_state import decode_state, encode_value, to_json

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from toolkit.models import CommandAuditLog

__all__ = ["Command", "undo_from_audit", "with_undo_status"]

T = TypeVar("T")
Q = TypeVar("Q", bound="QuerySet[Any]")

_UNSET: Any = object()
#: Instance attributes of the base class, never part of ``undo_state``.
_OWN_ATTRIBUTES = frozenset({"audit_log", "undo_log", "user"})


def _wrap(raw: Callable[..., Any], runner: str) -> Callable[..., Any]:
    """Wrap a subclass's ``execute`` / ``undo`` so calls go through the auditing runner."""

    @functools.wraps(raw)
    def wrapper(self: Command[Any], *args: Any, user: Any = _UNSET, **kwargs: Any) -> Any:
        if self._toolkit_depth:  # super().execute() from an override: no second audit row
            return raw(self, *args, **kwargs)
        run: Callable[..., Any] = getattr(self, runner)
        return run(raw, args, kwargs, user)

    return wrapper


class Command(Generic[T]):
    """Base class of commands: override ``execute`` (and ``undo`` to make it undoable).

    Class attributes: ``undoable`` (``False`` forbids undo even with an ``undo`` method),
    ``audit`` (``None`` follows the ``audit`` setting) and ``using`` (database alias).
    The acting user is ``execute(user=...)``, else the instance's ``user`` attribute (set it
    in ``__init__``, directly, or with :meth:`as_user`), else none.
    Subclasses register themselves in ``toolkit.registry.commands`` by dotted path.
    """

    undoable: ClassVar[bool | None] = None
    audit: ClassVar[bool | None] = None
    using: ClassVar[str | None] = None
    #: Whether :func:`~toolkit.patterns.command_preview.undo_preview` may run ``undo()`` in a
    #: rolled-back transaction to show what it changes. Set it to ``False`` when ``undo()``
    #: acts outside the database (a mail, a payment, memory): a rollback cannot take that
    #: back, so the preview shows the recorded undo state instead.
    undo_dry_run: ClassVar[bool] = True

    user: Any = None
    #: The execute row written by the last audited ``execute`` (or the row rebuilt from).
    audit_log: CommandAuditLog | None = None
    #: The undo row written by the last audited ``undo``.
    undo_log: CommandAuditLog | None = None
    _toolkit_depth: int = 0
    #: Set by a successful undo, cleared by the next successful execute: an instance is undone
    #: at most once even without audit rows (with them, the database enforces it too).
    _toolkit_undone: bool = False
    _toolkit_call: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})

    def __new__(cls, *args: Any, **kwargs: Any) -> Command[T]:
        self = super().__new__(cls)
        # The constructor's arguments are the command's params (audit row, rebuild).
        self._toolkit_call = (args, kwargs)
        return self

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "execute" in cls.__dict__:
            cls.execute = _wrap(cls.__dict__["execute"], "_run_execute")  # type: ignore[method-assign]
        if "undo" in cls.__dict__:
            cls.undo = _wrap(cls.__dict__["undo"], "_run_undo")  # type: ignore[method-assign]
        from toolkit import registry

        registry.commands.register(cls.command_path(), cls)

    # -- the contract --------------------------------------------------------------------

    def execute(self) -> T:
        """Do the work and return its result."""
        raise NotImplementedError(f"{type(self).__name__} must define execute()")

    def undo(self) -> None:
        """Reverse what ``execute`` did (define it to make the command undoable)."""
        raise UndoNotSupported(self.command_path(), "it defines no undo()")

    async def aexecute(self, *, user: Any = _UNSET) -> T:
        """Async :meth:`execute`, run on Django's thread-sensitive thread."""
        from asgiref.sync import sync_to_async

        result: T = await sync_to_async(self.execute, thread_sensitive=True)(user=user)  # type: ignore[call-arg]
        return result

    async def aundo(self, *, user: Any = _UNSET) -> None:
        """Async :meth:`undo`."""
        from asgiref.sync import sync_to_async

        await sync_to_async(self.undo, thread_sensitive=True)(user=user)  # type: ignore[call-arg]

    def as_user(self, user: Any) -> Self:
        """Set the acting user and return the command: ``cmd.as_user(request.user).execute()``
        (the typed spelling of ``execute(user=...)``)."""
        self.user = user
        return self

    # -- hooks ---------------------------------------------------------------------------

    @classmethod
    def command_path(cls) -> str:
        """Dotted path of the class, as stored in the audit row."""
        return f"{cls.__module__}.{cls.__qualname__}"

    @classmethod
    def is_undoable(cls) -> bool:
        """True when the class defines ``undo`` and does not set ``undoable = False``."""
        return cls.undoable is not False and cls.undo is not Command.undo

    def audit_enabled(self) -> bool:
        """``audit`` if set on the class, else the ``TOOLKIT["patterns"]["audit"]`` setting."""
        if self.audit is not None:
            return bool(self.audit)
        from django.conf import settings

        if not settings.configured:  # plain Python use, no Django project: nothing to audit
            return False
        from toolkit.conf import toolkit_settings

        return bool(toolkit_settings.patterns["audit"])

    def params(self) -> dict[str, Any]:
        """The constructor's arguments by parameter name (``**kwargs`` flattened).

        A subclass that overrides dmr-toolkit 0.1.0's hook ``_get_input_params()`` gets its
        dict instead.
        """
        if type(self)._get_input_params is not Command._get_input_params:
            return self._get_input_params()
        args, kwargs = self._toolkit_call
        sig = self._signature()
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        out: dict[str, Any] = {}
        for name, value in list(bound.arguments.items())[1:]:
            kind = sig.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                out.update(value)
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                out[name] = list(value)
            else:
                out[name] = value
        return out

    def audit_result(self, result: Any) -> Any:
        """The result as stored in the audit row: JSON as is, a model as a reference."""
        return encode_value(result, fallback=True)

    def undo_state(self) -> dict[str, Any]:
        """What ``undo`` needs besides the params, as JSON, stored in the audit row.

        Default: the instance attributes that are not params, JSON values as is, model
        instances as references re-fetched on rebuild; other values are left out. Override
        with :meth:`restore_undo_state` for anything else.
        """
        skip = set(self._signature().parameters) | _OWN_ATTRIBUTES
        state: dict[str, Any] = {}
        for key, value in vars(self).items():
            if key in skip or key.startswith("_toolkit"):
                continue
            encoded = encode_value(value, fallback=False)
            if encoded is not None or value is None:
                state[key] = encoded
        return state

    def restore_undo_state(self, state: dict[str, Any]) -> None:
        """Put back what :meth:`undo_state` stored, on a command rebuilt from its row."""
        for key, value in decode_state(state).items():
            setattr(self, key, value)

    @classmethod
    def from_audit(cls, row: CommandAuditLog) -> Command[Any]:
        """Rebuild the command of an execute row: class by path, params, undo state."""
        from django.utils.module_loading import import_string

        from toolkit import registry

        path = row.command
        try:
            klass = registry.commands.get(path) if path in registry.commands else None
            klass = klass or import_string(path)
        except ImportError as exc:
            raise CommandNotRebuildable(path, row.pk, f"cannot import {path!r}: {exc}") from exc
        if not (isinstance(klass, type) and issubclass(klass, Command)):
            raise CommandNotRebuildable(path, row.pk, f"{path!r} is not a Command subclass")
        args, kwargs = klass._arguments_from(row.params or {})
        try:
            command = klass(*args, **kwargs)
            command.restore_undo_state(row.undo_state or {})
        except Exception as exc:
            raise CommandNotRebuildable(
                path, row.pk, f"{klass.__name__}(**{row.params!r}) failed: {exc}"
            ) from exc
        command.audit_log = row
        return command

    # -- internals -----------------------------------------------------------------------

    @classmethod
    def _signature(cls) -> inspect.Signature:
        sig = cls.__dict__.get("_toolkit_signature")
        if sig is None:
            sig = inspect.signature(cls.__init__)
            cls._toolkit_signature = sig  # type: ignore[attr-defined]
        return sig

    @classmethod
    def _arguments_from(cls, params: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        args: list[Any] = []
        kwargs = dict(params)
        for name, param in list(cls._signature().parameters.items())[1:]:
            if param.kind is inspect.Parameter.POSITIONAL_ONLY and name in kwargs:
                args.append(kwargs.pop(name))
            elif param.kind is inspect.Parameter.VAR_POSITIONAL:
                args.extend(kwargs.pop(name, ()))
        return args, kwargs

    def _json_params(self) -> dict[str, Any]:
        """The params as the audit row stores them, checked before anything runs by the
        toolkit's one set of JSON rules (:func:`toolkit.core.validation.check_json`, with
        Django's encoder for dates, decimals and UUIDs): :class:`ValidationError` names the
        first parameter (path) that breaks one."""
        from django.core.serializers.json import DjangoJSONEncoder

        params = self.params()
        default = DjangoJSONEncoder().default
        check_json(params, what="params", owner=self.command_path(), default=default)
        return {name: to_json(value) for name, value in params.items()}

    def _acting_user(self, user: Any) -> Any:
        return self._get_executed_by() if user is _UNSET else user

    def _get_input_params(self) -> dict[str, Any]:
        """dmr-toolkit 0.1.0's hook for the audited parameters; override it or :meth:`params`."""
        return self.params()

    def _get_executed_by(self) -> Any:
        """dmr-toolkit 0.1.0's hook for the acting user when ``execute`` gets no ``user=``
        (the instance's ``user`` attribute by default)."""
        return self.user

    def _db(self) -> str:
        from django.db import router

        from toolkit.models import CommandAuditLog

        return self.using or router.db_for_write(CommandAuditLog)

    def _run_execute(
        self, raw: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], user: Any
    ) -> T:
        path = self.command_path()
        params = self._json_params()
        acting = self._acting_user(user)
        self._toolkit_depth += 1
        try:
            with span("command.execute", command=path):
                if not self.audit_enabled():
                    result = raw(self, *args, **kwargs)
                else:
                    from toolkit.patterns.command_audit import audited_execute

                    result = audited_execute(self, raw, args, kwargs, path, params, acting)
        finally:
            self._toolkit_depth -= 1
        self._toolkit_undone = False
        return result

    def _run_undo(
        self, raw: Callable[..., None], args: tuple[Any, ...], kwargs: dict[str, Any], user: Any
    ) -> None:
        path = self.command_path()
        if not self.is_undoable():
            raise UndoNotSupported(path, "undoable = False")
        if self._toolkit_undone:
            raise AlreadyUndone(path, self.audit_log.pk if self.audit_log is not None else None)
        acting = self._acting_user(user)
        self._toolkit_depth += 1
        try:
            with span("command.undo", command=path):
                # An execution with an audit row always gets its undo row, whatever the
                # setting says now: the row is what makes "at most once" hold.
                if self.audit_log is None:
                    raw(self, *args, **kwargs)
                else:
                    from toolkit.patterns.command_audit import audited_undo

                    audited_undo(self, raw, args, kwargs, path, acting)
        finally:
            self._toolkit_depth -= 1
        self._toolkit_undone = True


def undo_from_audit(audit_id: Any, *, user: Any = None) -> CommandAuditLog:
    """Rebuild the command of execute row ``audit_id`` and undo it; return the undo row.

    Raises :class:`NotFound`, :class:`UndoNotSupported` (an undo row, a failed execution,
    a command without undo), :class:`CommandNotRebuildable` or :class:`AlreadyUndone`.
    """
    from toolkit.models import CommandAuditLog

    row = CommandAuditLog.objects.filter(pk=audit_id).first()
    if row is None:
        raise NotFound("CommandAuditLog", audit_id)
    refusal = undo_refusal(row)
    if refusal is not None:
        raise refusal
    command = Command.from_audit(row)
    command.undo(user=user)  # type: ignore[call-arg]
    assert command.undo_log is not None
    return command.undo_log


def undo_refusal(row: CommandAuditLog) -> UndoNotSupported | None:
    """Why audit row ``row`` can never be undone (an undo row, a failed or non-undoable
    execution), or None. Whether it was undone already is checked under the row's lock."""
    if row.kind != row.Kind.EXECUTE:
        return UndoNotSupported(row.command, f"audit row {row.pk} is an undo, not an execution")
    if not row.success:
        return UndoNotSupported(row.command, f"its execution (audit row {row.pk}) failed")
    if not row.undoable:
        return UndoNotSupported(row.command, "it was recorded as not undoable")
    return None


def with_undo_status(queryset: Q) -> Q:
    """Annotate command rows with ``is_undone`` and ``undo_row_id`` (one subquery each)."""
    from django.db.models import Exists, OuterRef, Subquery

    from toolkit.models import CommandAuditLog

    undos = CommandAuditLog.objects.filter(undo_of=OuterRef("pk"), success=True)
    return queryset.annotate(is_undone=Exists(undos), undo_row_id=Subquery(undos.values("pk")[:1]))
