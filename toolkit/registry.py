"""What exists in this project: state machines and the models they drive, command classes,
aggregate types, projections and plugins.

The toolkit's classes register themselves here (a ``StateMachine`` subclass when it names
its model, a ``Command`` subclass when it is defined, ...). The control panel reads these
registries and never imports the project's own classes, so it works for any project.

Each registry is a :class:`~toolkit.core.registry.Registry` (the one typed registry of the
pure core): a name → object mapping that refuses a second, different class under a taken name
unless asked to replace it (``replace=True``), with errors that name both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.core.registry import Registry, RegistryError, dotted_path

if TYPE_CHECKING:
    from toolkit.eventsourcing.aggregate import Aggregate
    from toolkit.eventsourcing.projections import Projection
    from toolkit.patterns.command import Command
    from toolkit.patterns.state_machine import StateMachine

__all__ = [
    "Registry",
    "RegistryError",
    "aggregates",
    "commands",
    "dotted_path",
    "machine_for_model",
    "machines",
    "machines_for_model",
    "projections",
]


#: State machine instances by name (``StateMachine.name``).
machines: Registry[StateMachine] = Registry("state machine")
#: Command classes by dotted path.
commands: Registry[type[Command[Any]]] = Registry("command")
#: Event-sourced aggregate classes by aggregate type name.
aggregates: Registry[type[Aggregate]] = Registry("aggregate type")
#: Persistent projections by name.
projections: Registry[type[Projection]] = Registry("projection")


def machine_for_model(model: type[Any]) -> Any | None:
    """Return the registered state machine that drives ``model`` (a model class), or None."""
    for machine in machines.values():
        if getattr(machine, "model", None) is model:
            return machine
    return None


def machines_for_model(model: type[Any]) -> list[Any]:
    """Every registered state machine that drives ``model``, sorted by name."""
    return [m for m in machines.values() if getattr(m, "model", None) is model]
