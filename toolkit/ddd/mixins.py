"""Behaviour shared by the dataclasses and pydantic flavours of ``Entity`` and ``Aggregate``.

The flavours differ only in how they declare fields; identity equality and the recording of
domain events are the same logic, kept here once:

* :class:`IdentityEquality`: ``entity_id``, ``==`` and ``hash`` by the identity field (see
  :func:`~toolkit.ddd.identity.identity_field_of`).
* :class:`EventRecorder`: ``add_event``, ``pending_events``, ``get_events``,
  ``collect_events``, ``clear_events`` over the ``_events`` list the flavour declares.

Neither mixin declares fields or annotations at class level, so pydantic sees none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from toolkit.ddd.identity import identity_field_of

__all__ = ["EventRecorder", "IdentityEquality"]

EventT = TypeVar("EventT")


class IdentityEquality:
    """Equal when of the same type with the same identity value; hashed by it too."""

    __slots__ = ()

    @property
    def entity_id(self) -> Any:
        """The value of the identity field."""
        return getattr(self, identity_field_of(type(self)))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, IdentityEquality)
        return bool(self.entity_id == other.entity_id)

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, self.entity_id))


class EventRecorder(Generic[EventT]):
    """Records domain events in ``self._events`` until they are collected."""

    __slots__ = ()

    if TYPE_CHECKING:
        _events: list[EventT]

    def add_event(self, event: EventT) -> None:
        """Record ``event``; it is dispatched when the aggregate is saved."""
        self._events.append(event)

    @property
    def pending_events(self) -> list[EventT]:
        """The recorded events not collected yet (a copy)."""
        return list(self._events)

    def get_events(self) -> list[EventT]:
        """dddkit's name for :attr:`pending_events`."""
        return self.pending_events

    def collect_events(self) -> list[EventT]:
        """Return the pending events and forget them (each event is handed over once)."""
        events = list(self._events)
        self._events.clear()
        return events

    def clear_events(self) -> None:
        """Forget the pending events without handing them over."""
        self._events.clear()
