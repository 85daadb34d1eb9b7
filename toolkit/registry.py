"""What exists in this project: state machines and the models they drive, command classes,
aggregate types, projections and plugins.

The toolkit's classes register themselves here (a ``StateMachine`` subclass when it names
its model, a ``Command`` subclass when it is defined, ...). The control panel reads these
registries and never imports the project's own classes, so it works for any project.

Each registry is a :class:`Registry`: a name → object mapping with clear errors.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RegistryError(LookupError):
    """Raised for an unknown name; the message lists the registered names."""


class Registry(Generic[T]):
    """A thread-safe name → object mapping for one kind of thing (``kind`` names it)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._lock = threading.Lock()

    def register(self, name: str, obj: T, *, replace: bool = True) -> T:
        """Register ``obj`` under ``name``; re-registering replaces unless ``replace=False``."""
        with self._lock:
            if not replace and name in self._items and self._items[name] is not obj:
                raise RegistryError(f"A {self.kind} named {name!r} is already registered")
            self._items[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Remove ``name``; unknown names are ignored."""
        with self._lock:
            self._items.pop(name, None)

    def get(self, name: str) -> T:
        """Return the object registered under ``name`` or raise :class:`RegistryError`."""
        try:
            return self._items[name]
        except KeyError:
            names = ", ".join(repr(n) for n in sorted(self._items)) or "none"
            raise RegistryError(f"No {self.kind} named {name!r}; registered: {names}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, T]]:
        """``(name, object)`` pairs sorted by name."""
        return sorted(self._items.items())

    def values(self) -> list[T]:
        """Registered objects sorted by name."""
        return [obj for _, obj in self.items()]

    def clear(self) -> None:
        """Forget everything (tests only)."""
        with self._lock:
            self._items.clear()


#: State machine instances by name (``StateMachine.name``).
machines: Registry[Any] = Registry("state machine")
#: Command classes by dotted path.
commands: Registry[Any] = Registry("command")
#: Event-sourced aggregate classes by aggregate type name.
aggregates: Registry[Any] = Registry("aggregate type")
#: Persistent projections by name.
projections: Registry[Any] = Registry("projection")


def machine_for_model(model: type[Any]) -> Any | None:
    """Return the registered state machine that drives ``model`` (a model class), or None."""
    for machine in machines.values():
        if getattr(machine, "model", None) is model:
            return machine
    return None


def machines_for_model(model: type[Any]) -> list[Any]:
    """Every registered state machine that drives ``model``, sorted by name."""
    return [m for m in machines.values() if getattr(m, "model", None) is model]
