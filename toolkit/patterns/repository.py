"""Repository: domain code asks for entities, the repository knows where they live.

``Repository[T, ID]`` is the abstract contract; :class:`DjangoRepository` implements it on a
model's default manager, so a concrete repository only names its model::

    class OrderRepository(DjangoRepository[Order, int]):
        model = Order

    repo = OrderRepository()
    repo.get(42)                       # NotFound(model='Order', id=42) when missing
    repo.list(ActiveSpec() & PremiumSpec())
    await repo.aget(42)

``toolkit.testing.InMemoryRepository`` implements the same contract without a database.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from asgiref.sync import sync_to_async
from django.core.exceptions import ObjectDoesNotExist

from toolkit.contrib.otel import span
from toolkit.patterns.exceptions import NotFound

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

    from toolkit.patterns.specification import Specification

__all__ = ["DjangoRepository", "NotFound", "Repository"]

T = TypeVar("T")
ID = TypeVar("ID")
M = TypeVar("M", bound="Model")


class Repository(ABC, Generic[T, ID]):
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
    def remove(self, entity: T) -> None:
        """Delete the entity; raise :class:`NotFound` if it does not exist."""

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

    async def aremove(self, entity: T) -> None:
        """Async :meth:`remove`."""
        await sync_to_async(self.remove)(entity)


class DjangoRepository(Repository[M, ID]):
    """Repository over a Django model: subclasses set ``model`` and nothing else.

    Reads go through ``model._default_manager`` (``Order.objects`` unless the model says
    otherwise); override :meth:`get_queryset` to narrow every read. ``list(spec)`` filters with
    ``spec.to_query()``. ``add`` inserts (never updates), ``update`` updates (never inserts).
    """

    model: ClassVar[type[Model]]

    def get_model(self) -> type[M]:
        """Return ``model``, or raise ``ImproperlyConfigured`` naming the class."""
        model = getattr(self, "model", None)
        if model is None:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                f"{type(self).__name__} has no model; set `model = YourModel` on the class"
            )
        return model  # type: ignore[no-any-return]

    def get_queryset(self) -> QuerySet[M]:
        """Return the queryset every read starts from (the default manager's ``all()``)."""
        return self.get_model()._default_manager.all()

    def _filtered(self, spec: Specification | None) -> QuerySet[M]:
        queryset = self.get_queryset()
        return queryset if spec is None else queryset.filter(spec.to_query())

    def _not_found(self, id: Any) -> NotFound:
        return NotFound(model=self.get_model().__name__, id=id)

    def get(self, id: ID) -> M:
        model = self.get_model()
        with span("repository.get", model=model.__name__, id=str(id)):
            try:
                return self.get_queryset().get(pk=id)
            except ObjectDoesNotExist:
                raise self._not_found(id) from None

    def list(self, spec: Specification | None = None) -> builtins.list[M]:
        with span("repository.list", model=self.get_model().__name__, spec=repr(spec)):
            return builtins.list(self._filtered(spec))

    def add(self, entity: M) -> M:
        with span("repository.add", model=self.get_model().__name__):
            entity.save(force_insert=True)
            return entity

    def update(self, entity: M) -> M:
        from django.db import DatabaseError, router, transaction

        with span("repository.update", model=self.get_model().__name__, id=str(entity.pk)):
            if entity.pk is None:
                raise self._not_found(None)
            try:
                # A savepoint, so the failed forced update leaves an outer transaction usable.
                with transaction.atomic(using=router.db_for_write(type(entity))):
                    entity.save(force_update=True)
            except DatabaseError as exc:
                # Django's message for a forced update that matched no row.
                if "did not affect any rows" in str(exc):
                    raise self._not_found(entity.pk) from exc
                raise
            return entity

    def remove(self, entity: M) -> None:
        with span("repository.remove", model=self.get_model().__name__, id=str(entity.pk)):
            deleted, _ = self.get_queryset().filter(pk=entity.pk).delete()
            if not deleted:
                raise self._not_found(entity.pk)

    async def aget(self, id: ID) -> M:
        model = self.get_model()
        with span("repository.get", model=model.__name__, id=str(id)):
            try:
                return await self.get_queryset().aget(pk=id)
            except ObjectDoesNotExist:
                raise self._not_found(id) from None

    async def alist(self, spec: Specification | None = None) -> builtins.list[M]:
        with span("repository.list", model=self.get_model().__name__, spec=repr(spec)):
            return [entity async for entity in self._filtered(spec)]

    async def aadd(self, entity: M) -> M:
        with span("repository.add", model=self.get_model().__name__):
            await entity.asave(force_insert=True)
            return entity

    async def aupdate(self, entity: M) -> M:
        return await sync_to_async(self.update)(entity)

    async def aremove(self, entity: M) -> None:
        with span("repository.remove", model=self.get_model().__name__, id=str(entity.pk)):
            deleted, _ = await self.get_queryset().filter(pk=entity.pk).adelete()
            if not deleted:
                raise self._not_found(entity.pk)
