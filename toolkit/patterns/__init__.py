"""The toolkit's patterns: import them from here.

::

    from toolkit.patterns import Repository, DjangoRepository, Specification, StateMachine

The pure patterns (``StateMachine``, ``EventBus``, ``Specification``, ``Strategy``, ``lazy``,
``Repository``, ``UnitOfWork`` and the errors) are imported eagerly and need no Django at
import time. The Django-bound ones (``DjangoRepository``, ``Component``, ``Command`` with its
audit rows, ``cached``, plugins with their persisted state, ``EventStore`` with its backends)
are adapters loaded on first access through the module ``__getattr__`` (PEP 562), so
``import toolkit.patterns`` stays cheap and works without Django, while
``from toolkit.patterns import DjangoRepository`` keeps working. Errors live in
:mod:`toolkit.patterns.exceptions`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.core.exceptions import (
    ConcurrencyConflict,
    DuplicatePlugin,
    EventDispatchError,
    GuardFailed,
    InvalidTransition,
    NotFound,
    PatternError,
    StrategyNotFound,
)
from toolkit.patterns.lazy import lazy
from toolkit.patterns.observer import EventBus
from toolkit.patterns.repository import Repository
from toolkit.patterns.specification import (
    AndSpecification,
    NotSpecification,
    OrSpecification,
    Specification,
)
from toolkit.patterns.state_machine import Guard, StateMachine, Transition, guard
from toolkit.patterns.strategy import Strategy
from toolkit.patterns.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from toolkit.eventsourcing.event_store import EventStore
    from toolkit.eventsourcing.store import Snapshot as SnapshotRecord
    from toolkit.eventsourcing.store import StoredEvent as EventRecord
    from toolkit.patterns.cache import cache_invalidate, cached, invalidate
    from toolkit.patterns.command import Command
    from toolkit.patterns.component import Component, ComponentMixin, DMRComponentMixin
    from toolkit.patterns.django_repository import DjangoRepository
    from toolkit.patterns.plugin import Plugin, PluginMeta, PluginRegistry, get_plugin_registry

__all__ = [
    "AndSpecification",
    "Command",
    "Component",
    "ComponentMixin",
    "ConcurrencyConflict",
    "DMRComponentMixin",
    "DjangoRepository",
    "DuplicatePlugin",
    "EventBus",
    "EventDispatchError",
    "EventRecord",
    "EventStore",
    "Guard",
    "GuardFailed",
    "InvalidTransition",
    "NotFound",
    "NotSpecification",
    "OrSpecification",
    "PatternError",
    "Plugin",
    "PluginMeta",
    "PluginRegistry",
    "Repository",
    "SnapshotRecord",
    "Specification",
    "StateMachine",
    "Strategy",
    "StrategyNotFound",
    "Transition",
    "UnitOfWork",
    "cache_invalidate",
    "cached",
    "get_plugin_registry",
    "guard",
    "invalidate",
    "lazy",
]

#: The Django-bound names, each loaded from its adapter module on first access.
_ADAPTER_NAMES = frozenset(
    {
        "Command",
        "Component",
        "ComponentMixin",
        "DMRComponentMixin",
        "DjangoRepository",
        "EventRecord",
        "EventStore",
        "Plugin",
        "PluginMeta",
        "PluginRegistry",
        "SnapshotRecord",
        "cache_invalidate",
        "cached",
        "get_plugin_registry",
        "invalidate",
    }
)


def __getattr__(name: str) -> Any:
    """Load a Django-bound name from its adapter module on first access (PEP 562).

    The imports are plain statements (not ``import_module`` strings) so that the
    import-linter contracts see these edges like any other.
    """
    if name not in _ADAPTER_NAMES:
        raise AttributeError(f"module 'toolkit.patterns' has no attribute {name!r}")
    if name == "EventStore":
        from toolkit.eventsourcing import event_store

        value: Any = event_store.EventStore
    elif name in {"EventRecord", "SnapshotRecord"}:
        # dmr-toolkit 0.1.0's names of what EventStore.load / load_snapshot return.
        from toolkit.eventsourcing import store

        value = store.StoredEvent if name == "EventRecord" else store.Snapshot
    elif name == "DjangoRepository":
        from toolkit.patterns import django_repository

        value = django_repository.DjangoRepository
    elif name == "Command":
        from toolkit.patterns import command

        value = command.Command
    elif name in {"cache_invalidate", "cached", "invalidate"}:
        from toolkit.patterns import cache

        value = getattr(cache, name)
    elif name.startswith(("Component", "DMRComponent")):
        from toolkit.patterns import component

        value = getattr(component, name)
    else:
        from toolkit.patterns import plugin

        value = getattr(plugin, name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
