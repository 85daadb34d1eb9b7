"""Repository: domain code asks for entities, the repository knows where they live.

``Repository[T, ID]`` is the abstract contract; :class:`DjangoRepository` implements it on a
model's default manager, so a concrete repository only names its model::

    class OrderRepository(DjangoRepository[Order, int]):
        model = Order

    repo = OrderRepository()           # or DjangoRepository(Order), as dmr-toolkit 0.1.0 wrote it
    repo.get(42)                       # NotFound(model='Order', id=42) when missing
    repo.list(ActiveSpec() & PremiumSpec())
    repo.remove(42)                    # by id, as published; an entity works too
    await repo.aget(42)

``toolkit.testing.InMemoryRepository`` implements the same contract without a database.

The contract is dmr-toolkit's face on the toolkit's one repository core,
:class:`toolkit.core.repository.Repository` (``get`` / ``add`` / ``remove``, ``find``,
``id in repo``): this class adds ``list``, ``update`` and the async variants.

This module is the pure contract (no Django import); :class:`DjangoRepository` is the Django
adapter in :mod:`toolkit.patterns.django_repository` (import both from :mod:`toolkit.patterns`).
"""

from __future__ import annotations

import builtins
from abc import abstractmethod
from typing import TYPE_CHECKING, TypeVar

from asgiref.sync import sync_to_async

from toolkit.core import repository as core
from toolkit.core.exceptions import NotFound

if TYPE_CHECKING:
    from toolkit.patterns.specification import Specification

__all__ = ["NotFound", "Repository"]

T = TypeVar("T")
ID = TypeVar("ID")


class Repository(core.Repository[T, ID]):
    """Abstract collection of entities of type ``T`` with ids of type ``ID``.

    Implement the five sync methods; the async variants default to running them in a thread
    (``sync_to_async``) and can be overridden with native async code.
    """

    @abstractmethod
    def get(self, id: ID) -> T:
        """Return the entity with ``id`` or raise :class:`NotFound`."""

    @abstractmethod
    def list(self, spec: Specification | None = None) -> builtins.list[T]:
        """Return every entity, or those satisfying ``spec``."""

    @abstractmethod
    def add(self, entity: T) -> T:
        """Store a new entity and return it (with its id set)."""

    @abstractmethod
    def update(self, entity: T) -> T:
        """Store changes to an existing entity; raise :class:`NotFound` if it does not exist."""

    @abstractmethod
    def remove(self, id: ID | T, *, missing_ok: bool = False) -> None:
        """Delete the entity with ``id``; raise :class:`NotFound` if there is none.

        ``id`` is an id, as in dmr-toolkit 0.1.0; an entity is accepted too (its id is used),
        as this toolkit's earlier ``remove(entity)`` took one. dmr-toolkit 0.1.0 ignored a
        missing id silently: pass ``missing_ok=True`` for that behaviour.
        """

    async def aget(self, id: ID) -> T:
        """Async :meth:`get`."""
        return await sync_to_async(self.get)(id)

    async def alist(self, spec: Specification | None = None) -> builtins.list[T]:
        """Async :meth:`list`."""
        return await sync_to_async(self.list)(spec)

    async def aadd(self, entity: T) -> T:
        """Async :meth:`add`."""
        return await sync_to_async(self.add)(entity)

    async def aupdate(self, entity: T) -> T:
        """Async :meth:`update`."""
        return await sync_to_async(self.update)(entity)

    async def aremove(self, id: ID | T, *, missing_ok: bool = False) -> None:
        """Async :meth:`remove`."""
        await sync_to_async(self.remove)(id, missing_ok=missing_ok)
