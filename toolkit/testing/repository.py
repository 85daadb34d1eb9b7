"""``InMemoryRepository``: the Repository contract on a dict, for unit tests."""

from __future__ import annotations

import builtins
import itertools
import threading
from typing import Any, Generic, TypeVar

from toolkit.core.exceptions import NotFound
from toolkit.patterns.repository import Repository
from toolkit.patterns.specification import Specification

__all__ = ["InMemoryRepository"]

T = TypeVar("T")


class InMemoryRepository(Repository[T, Any], Generic[T]):
    """Full CRUD on a dict keyed by each entity's ``id_attr`` (default ``"id"``).

    ``add`` assigns the next integer id when the entity has none. ``remove(id)`` takes an id
    (an object with the ``id_attr`` attribute is taken as the entity itself). ``get``,
    ``update`` and ``remove`` raise ``NotFound(model=..., id=...)`` like the Django repository,
    naming ``model`` (a class or a name; default: the class of the entity at hand or of the stored
    ones, else ``"Entity"``).
    ``list(spec)`` filters with ``spec.is_satisfied_by``. Entities are stored as given
    (no copies), in insertion order.

    ::

        repo = InMemoryRepository()
        entity = repo.add(MyEntity(id=1, name="test"))
        assert repo.get(1) == entity
    """

    def __init__(self, model: type[Any] | str | None = None, *, id_attr: str = "id") -> None:
        self.model_name = model if isinstance(model, str) or model is None else model.__name__
        self.id_attr = id_attr
        self._items: dict[Any, T] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _name(self, entity: Any = None) -> str:
        if self.model_name is not None:
            return self.model_name
        if entity is None:  # get(id): name the class of what the repository holds
            entity = next(iter(self._items.values()), None)
        return type(entity).__name__ if entity is not None else "Entity"

    def _id(self, entity: T) -> Any:
        return getattr(entity, self.id_attr, None)

    def get(self, id: Any) -> T:
        try:
            return self._items[id]
        except KeyError:
            raise NotFound(model=self._name(), id=id) from None

    def list(self, spec: Specification | None = None) -> builtins.list[T]:
        items = builtins.list(self._items.values())
        if spec is None:
            return items
        return [item for item in items if spec.is_satisfied_by(item)]

    def add(self, entity: T) -> T:
        with self._lock:
            entity_id = self._id(entity)
            if entity_id is None:
                entity_id = next(self._ids)
                while entity_id in self._items:
                    entity_id = next(self._ids)
                setattr(entity, self.id_attr, entity_id)
            elif entity_id in self._items:
                raise ValueError(
                    f"{self._name(entity)} with id {entity_id!r} is already in the repository; "
                    "use update()"
                )
            self._items[entity_id] = entity
        return entity

    def update(self, entity: T) -> T:
        entity_id = self._id(entity)
        with self._lock:
            if entity_id not in self._items:
                raise NotFound(model=self._name(entity), id=entity_id)
            self._items[entity_id] = entity
        return entity

    def remove(self, id: Any, *, missing_ok: bool = False) -> None:
        """Delete the entity with ``id`` (or the entity given: one with an ``id_attr``)."""
        entity_id = self._id(id) if hasattr(id, self.id_attr) else id
        with self._lock:
            if entity_id in self._items:
                del self._items[entity_id]
            elif not missing_ok:
                raise NotFound(model=self._name(), id=entity_id)

    # No I/O: the async variants run inline instead of in a thread.
    async def aget(self, id: Any) -> T:
        return self.get(id)

    async def alist(self, spec: Specification | None = None) -> builtins.list[T]:
        return self.list(spec)

    async def aadd(self, entity: T) -> T:
        return self.add(entity)

    async def aupdate(self, entity: T) -> T:
        return self.update(entity)

    async def aremove(self, id: Any, *, missing_ok: bool = False) -> None:
        self.remove(id, missing_ok=missing_ok)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Remove every entity."""
        with self._lock:
            self._items.clear()
