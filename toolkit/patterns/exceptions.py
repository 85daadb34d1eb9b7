"""The toolkit's errors, importable where they have always been.

They are defined in :mod:`toolkit.core.exceptions` (the pure core, below every sub-package, so
``toolkit.eventsourcing``, ``toolkit.ddd`` and ``toolkit.stories`` can raise them without
importing ``toolkit.patterns``); this module re-exports the same classes.
"""

from __future__ import annotations

from toolkit.core.exceptions import (
    AlreadyUndone,
    CommandError,
    CommandNotRebuildable,
    ConcurrencyConflict,
    DuplicatePlugin,
    EventDispatchError,
    GuardFailed,
    InvalidTransition,
    MissingDependency,
    MissingDependencyError,
    NotFound,
    PatternError,
    PluginNotFound,
    SchemaValidationError,
    SpecificationError,
    StrategyNotFound,
    TransitionNotPermitted,
    UndoConflict,
    UndoNotSupported,
    ValidationError,
)

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
