"""The repository protocol for aggregates: load by id, persist, save with its events.

A repository is the only way an aggregate goes in and out of storage. Subclasses implement
:meth:`Repository.get` and :meth:`Repository.persist`; :meth:`Repository.save` persists and,
when the repository has a :class:`~toolkit.ddd.changes.ChangesHandler`, hands the aggregate's
pending events to it (dispatched after the surrounding transaction commits).

The protocol is dddkit's face on the toolkit's one repository core,
:class:`toolkit.core.repository.Repository`: ``add`` is :meth:`Repository.save`, and ``find``
and ``id in repo`` come with it.

Example (``demo/allocation/repository.py`` is a complete Django one)::

    class BasketRepository(Repository[Basket, BasketId]):
        def get(self, aggregate_id: BasketId) -> Basket: ...
        def persist(self, aggregate: Basket) -> None: ...
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, TypeVar

from toolkit.core import repository as core

if TYPE_CHECKING:
    from toolkit.ddd.changes import ChangesHandler

AggregateT = TypeVar("AggregateT")
IdT = TypeVar("IdT")

__all__ = ["Repository"]


class Repository(core.Repository[AggregateT, IdT]):
    """Stores and loads one aggregate type.

    ``changes_handler`` (attribute or constructor argument) receives every saved aggregate;
    override :meth:`get_changes_handler` to choose it per call.
    """

    changes_handler: ChangesHandler[Any, Any] | None = None

    def __init__(
        self, *, changes_handler: ChangesHandler[Any, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if changes_handler is not None:
            self.changes_handler = changes_handler

    @abstractmethod
    def get(self, aggregate_id: IdT) -> AggregateT:
        """Return the aggregate with ``aggregate_id`` or raise ``NotFound``."""

    @abstractmethod
    def persist(self, aggregate: AggregateT) -> None:
        """Write the aggregate's current state to storage (events are not touched)."""

    def get_changes_handler(self) -> ChangesHandler[Any, Any] | None:
        """The changes handler :meth:`save` uses (default: :attr:`changes_handler`)."""
        return self.changes_handler

    def save(self, aggregate: AggregateT) -> list[Any]:
        """Persist ``aggregate`` and hand its pending events to the changes handler.

        Returns the events handed over (empty without a changes handler: they stay pending).
        """
        handler = self.get_changes_handler()
        if handler is None:
            self.persist(aggregate)
            return []
        return handler.save(aggregate, self)

    def add(self, aggregate: AggregateT, /) -> list[Any]:
        """The core's name for :meth:`save`."""
        return self.save(aggregate)
