"""DjangoRepository: the :class:`~toolkit.patterns.repository.Repository` contract on a model.

The Django adapter of the repository pattern; the contract itself (pure Python) is in
:mod:`toolkit.patterns.repository`. Import it from :mod:`toolkit.patterns`::

    class OrderRepository(DjangoRepository[Order, int]):
        model = Order
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from asgiref.sync import sync_to_async
from django.core.exceptions import ObjectDoesNotExist

from toolkit.contrib.otel import span
from toolkit.core.exceptions import NotFound
from toolkit.patterns.repository import Repository

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

    from toolkit.patterns.specification import Specification

__all__ = ["DjangoRepository"]

ID = TypeVar("ID")
M = TypeVar("M", bound="Model")


class DjangoRepository(Repository[M, ID]):
    """Repository over a Django model: subclasses set ``model`` and nothing else.

    Reads go through ``model._default_manager`` (``Order.objects`` unless the model says
    otherwise); override :meth:`get_queryset` to narrow every read. ``list(spec)`` filters with
    ``spec.to_query()``. ``add`` inserts (never updates), ``update`` updates (never inserts).
    """

    model: ClassVar[type[Model]]

    def __init__(self, model_class: type[M] | None = None) -> None:
        # dmr-toolkit 0.1.0 takes the model in the constructor: DjangoRepository(Order).
        if model_class is not None:
            self.model = model_class  # type: ignore[misc]

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

    def _pk(self, id: ID | M) -> Any:
        """The primary key of ``id``: a model instance gives its ``pk``, anything else is one."""
        from django.db.models import Model

        return id.pk if isinstance(id, Model) else id

    def remove(self, id: ID | M, *, missing_ok: bool = False) -> None:
        pk = self._pk(id)
        with span("repository.remove", model=self.get_model().__name__, id=str(pk)):
            deleted, _ = self.get_queryset().filter(pk=pk).delete()
            if not deleted and not missing_ok:
                raise self._not_found(pk)

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

    async def aremove(self, id: ID | M, *, missing_ok: bool = False) -> None:
        pk = self._pk(id)
        with span("repository.remove", model=self.get_model().__name__, id=str(pk)):
            deleted, _ = await self.get_queryset().filter(pk=pk).adelete()
            if not deleted and not missing_ok:
                raise self._not_found(pk)
