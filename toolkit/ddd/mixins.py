"""Behaviour shared by the dataclasses and pydantic flavours of ``Entity`` and ``Aggregate``.

Both mixins are the core's (:mod:`toolkit.core.aggregate`); this module adds dddkit's verbs:

* :class:`IdentityEquality`: ``entity_id``, ``==`` and ``hash`` by the identity field (see
  :func:`~toolkit.core.aggregate.identity_field_of`).
* :class:`EventRecorder`: dddkit's ``add_event`` and ``get_events`` on the core recorder's
  ``pending_events``, ``collect_events`` and ``clear_events`` over the ``_events`` list the
  flavour declares.

Neither mixin declares fields or annotations at class level, so pydantic sees none of them.
"""

from __future__ import annotations

from typing import TypeVar

from toolkit.core import aggregate as core

__all__ = ["EventRecorder", "IdentityEquality"]

EventT = TypeVar("EventT")

IdentityEquality = core.IdentityEquality


class EventRecorder(core.EventRecorder[EventT]):
    """Records domain events until they are collected (dddkit's names on the core's)."""

    __slots__ = ()

    def add_event(self, event: EventT) -> None:
        """Record ``event``; it is dispatched when the aggregate is saved."""
        self.record_event(event)

    def get_events(self) -> list[EventT]:
        """dddkit's name for :attr:`pending_events`."""
        return self.pending_events
