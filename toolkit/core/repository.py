"""The one repository contract: an entity or aggregate goes in by ``add`` and out by ``get``.

Every repository of the toolkit implements it; the faces map their seed's verbs onto it:

* ``toolkit.patterns.Repository`` (dmr-toolkit): ``get`` / ``add`` / ``remove``, plus
  ``list``, ``update`` and the async variants;
* ``toolkit.ddd.Repository`` (dddkit): ``get``; ``add`` is ``save`` (persist, then the
  pending events to the changes handler);
* ``toolkit.eventsourcing.AggregateRepository``: ``get`` (None when the stream has no
  events, as it always had); ``add`` is ``save`` (append the pending events).

Shared here: :meth:`Repository.find` (the entity or None, whichever way the face reports a
missing one) and ``id in repository``. Pure Python, no Django.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Generic, TypeVar

from toolkit.core.exceptions import NotFound

__all__ = ["Repository"]

T = TypeVar("T")
ID = TypeVar("ID")


class Repository(ABC, Generic[T, ID]):
    """A collection of ``T`` by id of type ``ID``: implement :meth:`get` and :meth:`add`."""

    @abstractmethod
    def get(self, id: ID, /) -> T:
        """The entity with ``id``; raise :class:`~toolkit.core.exceptions.NotFound` when there
        is none (the event-sourcing face returns None instead, as it always has)."""

    @abstractmethod
    def add(self, entity: T, /) -> Any:
        """Store ``entity`` (new, or changed for the faces whose verb is ``save``)."""

    def remove(self, id: ID | T, /, *, missing_ok: bool = False) -> None:
        """Delete the entity with ``id`` (a face that deletes implements it)."""
        raise NotImplementedError(f"{type(self).__name__} does not remove entities")

    def find(self, id: ID, /) -> T | None:
        """The entity with ``id``, or None when there is none."""
        try:
            return self.get(id)
        except NotFound:
            return None

    def __contains__(self, id: object) -> bool:
        return self.find(id) is not None  # type: ignore[arg-type]
