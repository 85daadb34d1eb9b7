"""Registry: the one typed name → object mapping the toolkit keeps for each kind of thing.

``Registry[StateMachine]``, ``Registry[type[Command]]``, ... Every registry of the toolkit
(:mod:`toolkit.registry`: machines, commands, aggregates, projections) is an instance of it.

Each registered object is identified by its **dotted path** (``module.Name`` of the class, or of
the instance's class). Registering under a taken name:

* the same object, or an object with the same dotted path (the class defined again: a module
  reloaded by the autoreloader, a class re-created in a test), replaces the entry silently, as
  Django's app registry does for a reloaded model;
* a *different* class (another dotted path) raises :class:`RegistryError` naming both, unless
  the caller passes ``replace=True``. Two ``OrderMachine`` classes in two apps no longer
  overwrite each other unnoticed.

::

    machines: Registry[StateMachine] = Registry("state machine")
    machines.register("order", OrderMachine())
    machines.get("order")
    machines.get("nope")   # RegistryError: No state machine named 'nope'; registered: 'order'
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import FunctionType, MethodType
from typing import Generic, TypeVar

__all__ = ["Registry", "RegistryError", "dotted_path"]

T = TypeVar("T")


class RegistryError(LookupError):
    """Raised for an unknown name (the message lists the registered names) and for a second,
    different class registered under a taken name (the message names both)."""


def dotted_path(obj: object) -> str:
    """``module.Name`` of a class or of an instance's class (``module.qualname`` for a
    function), which is how the registry tells one registered thing from another."""
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__name__}"
    if isinstance(obj, FunctionType | MethodType):
        return f"{obj.__module__}.{obj.__qualname__}"
    return f"{type(obj).__module__}.{type(obj).__name__}"


class Registry(Generic[T]):
    """A thread-safe name → object mapping for one kind of thing (``kind`` names it in errors)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._lock = threading.Lock()

    def register(self, name: str, obj: T, *, replace: bool = False) -> T:
        """Register ``obj`` under ``name`` and return it.

        A taken name is refused with :class:`RegistryError` when ``obj`` has another dotted
        path than the registered object, unless ``replace=True``.
        """
        with self._lock:
            current = self._items.get(name)
            if (
                current is not None
                and current is not obj
                and not replace
                and dotted_path(current) != dotted_path(obj)
            ):
                raise RegistryError(
                    f"{self.kind.capitalize()} {name!r} is already registered: "
                    f"{dotted_path(current)}; refusing {dotted_path(obj)}. Give one of them "
                    f"another name, or register with replace=True to replace it."
                )
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
