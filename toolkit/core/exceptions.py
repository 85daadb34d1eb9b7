"""Every error the toolkit raises, under one root.

::

    PatternError (base)
    ├── NotFound              Repository.get on a missing entity
    ├── InvalidTransition     StateMachine: unknown transition, or wrong source state
    ├── GuardFailed           StateMachine: a guard returned False
    ├── TransitionNotPermitted StateMachine: the user lacks the transition's permission
    ├── DuplicatePlugin       PluginRegistry: a name registered twice
    ├── PluginNotFound        PluginRegistry: unknown plugin name
    ├── StrategyNotFound      Strategy.resolve: unknown name
    ├── ConcurrencyConflict   EventStore / aggregates: expected sequence or version mismatch
    ├── EventDispatchError    EventBus / EventBroker: the handlers that raised, gathered
    ├── SpecificationError    Specification.from_dict: malformed or unknown spec
    ├── CommandError          Command: base of the command errors below
    │   ├── UndoNotSupported  the command cannot be undone
    │   ├── AlreadyUndone     the command was undone before (enforced by the database)
    │   ├── UndoConflict      the undo's objects changed since the command ran
    │   └── CommandNotRebuildable the audit row cannot be turned back into a command
    ├── MissingDependencyError an optional extra is used but its package is not installed
    │                         (also an ImportError; alias MissingDependency)
    └── ValidationError       bad input: not JSON-serialisable, schema violation, ...
        └── SchemaValidationError an event payload that fails its schema

Each error keeps the values it is about as attributes, and its ``repr`` shows them:
``NotFound(model='Order', id=999)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class PatternError(Exception):
    """Root of every error raised by the toolkit.

    Subclasses list their structured fields in ``_fields``; ``repr`` shows them by keyword.
    """

    _fields: tuple[str, ...] = ()

    @property
    def context(self) -> dict[str, Any]:
        """The structured fields as a dict (dmr-toolkit 0.1.0 kept them in ``context``)."""
        return {name: getattr(self, name) for name in self._fields}

    def __repr__(self) -> str:
        if not self._fields:
            return f"{type(self).__name__}({str(self)!r})"
        parts = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({parts})"


class NotFound(PatternError):
    """Raised by ``Repository.get`` when no entity has the id."""

    _fields = ("model", "id")

    def __init__(self, model: str, id: Any) -> None:
        self.model = model
        self.id = id
        super().__init__(f"{model} with id {id!r} does not exist")


class InvalidTransition(PatternError):
    """Raised when a transition is unknown, or the entity is not in one of its source states."""

    _fields = ("transition", "state", "allowed")

    def __init__(
        self,
        transition: str,
        state: Any = None,
        allowed: Sequence[str] = (),
        *,
        message: str | None = None,
        current_state: Any = None,
        model: str = "",
    ) -> None:
        # current_state= and model= are dmr-toolkit 0.1.0's keywords.
        if current_state is not None:
            state = current_state
        self.transition = transition
        self.state = state
        self.allowed = tuple(allowed)
        self.model = model
        if message is None:
            choices = ", ".join(repr(a) for a in sorted(self.allowed)) or "none"
            message = (
                f"Cannot {transition!r} from state {state!r}; "
                f"transitions allowed from this state: {choices}"
            )
        super().__init__(message)

    @property
    def current_state(self) -> Any:
        """dmr-toolkit 0.1.0's name for :attr:`state`."""
        return self.state


class GuardFailed(PatternError):
    """Raised when a guard of the transition returned False.

    ``explanation`` is the guard's human-readable reason when it carries one.
    """

    _fields = ("transition", "guard", "explanation")

    def __init__(
        self,
        transition: str,
        guard: str,
        explanation: str | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        explanation = explanation or reason  # reason= is dmr-toolkit 0.1.0's keyword
        self.transition = transition
        self.guard = guard
        self.explanation = explanation
        detail = f": {explanation}" if explanation else ""
        super().__init__(f"Guard {guard!r} blocked transition {transition!r}{detail}")

    @property
    def reason(self) -> str | None:
        """dmr-toolkit 0.1.0's name for :attr:`explanation`."""
        return self.explanation


class TransitionNotPermitted(PatternError):
    """Raised when the acting user lacks the permission a transition requires."""

    _fields = ("transition", "permission", "user")

    def __init__(self, transition: str, permission: str | None, user: Any) -> None:
        self.transition = transition
        self.permission = permission
        self.user = user
        needed = f" (needs {permission!r})" if permission else ""
        super().__init__(f"User {user!s} may not trigger {transition!r}{needed}")


class DuplicatePlugin(PatternError):
    """Raised when a plugin name is registered twice."""

    _fields = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"A plugin named {name!r} is already registered")


class PluginNotFound(PatternError, KeyError):
    """Raised when a plugin name is unknown to the registry.

    Also a ``KeyError``: dmr-toolkit 0.1.0's ``PluginRegistry.get`` / ``unregister`` raised
    ``KeyError``, so ``except KeyError`` keeps working.
    """

    _fields = ("name", "available")
    # KeyError would show the message quoted, as a key; show it as written.
    __str__ = Exception.__str__

    def __init__(self, name: str, available: Sequence[str] = ()) -> None:
        self.name = name
        self.available = tuple(sorted(available))
        choices = ", ".join(repr(a) for a in self.available) or "none"
        super().__init__(f"No plugin named {name!r}; available: {choices}")


class StrategyNotFound(PatternError):
    """Raised by ``Strategy.resolve`` for a name that is not registered."""

    _fields = ("name", "strategy", "available")

    def __init__(
        self, name: str, strategy: str = "strategy", available: Sequence[str] = ()
    ) -> None:
        self.name = name
        self.strategy = strategy
        self.available = tuple(sorted(available))
        choices = ", ".join(repr(a) for a in self.available) or "none"
        super().__init__(f"{name!r} is not a {strategy}; available: {choices}")


class ConcurrencyConflict(PatternError):
    """Raised when the expected sequence (or version) is not the current one."""

    _fields = ("aggregate_id", "expected", "actual")

    def __init__(
        self,
        aggregate_id: Any,
        expected: int | None = None,
        actual: int | None = None,
        *,
        expected_seq: int | None = None,
        actual_seq: int | None = None,
    ) -> None:
        # expected_seq= / actual_seq= are dmr-toolkit 0.1.0's keywords.
        expected = expected if expected_seq is None else expected_seq
        actual = actual if actual_seq is None else actual_seq
        self.aggregate_id = aggregate_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Aggregate {aggregate_id!r}: expected sequence {expected!r}, found {actual!r}"
        )

    @property
    def expected_seq(self) -> int | None:
        """dmr-toolkit 0.1.0's name for :attr:`expected`."""
        return self.expected

    @property
    def actual_seq(self) -> int | None:
        """dmr-toolkit 0.1.0's name for :attr:`actual`."""
        return self.actual


class EventDispatchError(PatternError):
    """Raised after every handler ran, when one or more of them raised.

    ``errors`` is the list of the raised exceptions themselves, in handler order (as in
    dmr-toolkit 0.1.0); ``handlers`` names the handler of each (``module.qualname``), and
    ``failures`` pairs them up: ``[(handler_name, exception), ...]``. ``event_type`` is the
    published spelling of ``event``.

    Build it with exceptions, ``(handler_name, exception)`` pairs, or a mix::

        EventDispatchError("order.paid", [ValueError("bad")])
        EventDispatchError(event_type="order.paid", errors=[("shop.mail", ValueError("bad"))])
    """

    _fields = ("event", "failures")

    def __init__(
        self,
        event: str = "",
        errors: Sequence[BaseException | tuple[str, BaseException]] = (),
        *,
        event_type: str | None = None,
    ) -> None:
        self.event = event_type if event_type is not None else event
        self.failures: list[tuple[str, BaseException]] = [
            item if isinstance(item, tuple) else (_unknown_handler, item) for item in errors
        ]
        self.errors: list[BaseException] = [exc for _, exc in self.failures]
        self.handlers: list[str] = [name for name, _ in self.failures]
        count = len(self.errors)
        names = ", ".join(self.handlers)
        super().__init__(f"{count} handler(s) failed for {self.event!r}: {names}")

    @property
    def event_type(self) -> str:
        """dmr-toolkit's name for :attr:`event`."""
        return self.event

    @property
    def exceptions(self) -> list[BaseException]:
        """The exceptions alone, in handler order (the same list as :attr:`errors`)."""
        return self.errors


#: The handler name shown when an EventDispatchError was built from bare exceptions.
_unknown_handler = "<handler>"


class SpecificationError(PatternError):
    """Raised by ``Specification.from_dict`` for a malformed or unknown specification."""

    _fields = ("data",)

    def __init__(self, message: str, data: Any = None) -> None:
        self.data = data
        super().__init__(message)


class CommandError(PatternError):
    """Base of the errors about command execution, undo and rebuilding."""


class UndoNotSupported(CommandError):
    """Raised when undo is asked of a command that cannot be undone."""

    _fields = ("command",)

    def __init__(self, command: str, reason: str | None = None) -> None:
        self.command = command
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"{command} cannot be undone{detail}")


class AlreadyUndone(CommandError):
    """Raised when a command that was undone already is undone again."""

    _fields = ("command", "audit_id")

    def __init__(self, command: str, audit_id: Any) -> None:
        self.command = command
        self.audit_id = audit_id
        row = f" (audit row {audit_id!r})" if audit_id is not None else ""
        super().__init__(f"{command}{row} was already undone")


class UndoConflict(CommandError):
    """Raised by a checked undo when the objects it would change were changed since the
    command ran (a later transition, a newer modification time); ``force=True`` overrides it.

    ``conflicts`` holds one sentence per changed object.
    """

    _fields = ("command", "audit_id", "conflicts")

    def __init__(self, command: str, audit_id: Any, conflicts: Sequence[str]) -> None:
        self.command = command
        self.audit_id = audit_id
        self.conflicts = tuple(conflicts)
        super().__init__(
            f"{command} (audit row {audit_id!r}) was not undone: " + "; ".join(self.conflicts)
        )


class CommandNotRebuildable(CommandError):
    """Raised when a command cannot be rebuilt from its audit row."""

    _fields = ("command", "audit_id")

    def __init__(self, command: str, audit_id: Any, reason: str) -> None:
        self.command = command
        self.audit_id = audit_id
        self.reason = reason
        super().__init__(f"Cannot rebuild {command} from audit row {audit_id!r}: {reason}")


class ValidationError(PatternError):
    """Raised for bad input; nothing is written when it is raised.

    ``field`` names the offending key or path when there is one.
    """

    _fields = ("message", "field", "value")

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        self.message = message
        self.field = field
        self.value = value
        super().__init__(message)


class SchemaValidationError(ValidationError):
    """Raised when an event payload fails the schema of its event type."""

    _fields = ("event_type", "field", "message")

    def __init__(self, event_type: str, message: str, *, field: str | None = None) -> None:
        self.event_type = event_type
        where = f" at {field!r}" if field else ""
        super().__init__(f"{event_type}{where}: {message}", field=field)


__all__ = [
    "AlreadyUndone",
    "CommandError",
    "CommandNotRebuildable",
    "ConcurrencyConflict",
    "DuplicatePlugin",
    "EventDispatchError",
    "GuardFailed",
    "InvalidTransition",
    "MissingDependency",
    "MissingDependencyError",
    "NotFound",
    "PatternError",
    "PluginNotFound",
    "SchemaValidationError",
    "SpecificationError",
    "StrategyNotFound",
    "TransitionNotPermitted",
    "UndoConflict",
    "UndoNotSupported",
    "ValidationError",
]


class MissingDependencyError(PatternError, ImportError):
    """Raised when an optional extra is imported but its package is not installed.

    dddkit's name and signature: ``MissingDependencyError(package, install_package=None,
    extra=None)``; ``install_package`` is the name to ``pip install`` (default ``package``),
    ``extra`` the toolkit's extra that brings it (default ``install_package``).
    """

    _fields = ("package", "install_package", "extra")

    def __init__(
        self, package: str, install_package: str | None = None, extra: str | None = None
    ) -> None:
        self.package = package
        self.install_package = install_package or package
        self.extra = extra or install_package or package
        super().__init__(
            f"Package {package!r} is not installed but required. You can install it by "
            f"running `pip install 'django-pattern-toolkit[{self.extra}]'` to install the "
            f"toolkit with the required extra or 'pip install {self.install_package}' to "
            f"install the package separately"
        )


#: The toolkit's earlier name for :class:`MissingDependencyError`.
MissingDependency = MissingDependencyError
