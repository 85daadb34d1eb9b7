"""Correlation, causation and acting user for the events appended in a block of code.

.. code-block:: python

    with event_context(correlation_id=request_id, user=request.user):
        store.append("order-42", "Order", "OrderPaid", {"method": "card"})

Values passed to ``append`` directly win over the context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventContext:
    """Metadata applied to every event appended while the context is active."""

    correlation_id: str = ""
    causation_id: str = ""
    user_id: str = ""


_EMPTY = EventContext()
_current: ContextVar[EventContext] = ContextVar("toolkit_event_context", default=_EMPTY)


def current_context() -> EventContext:
    """The active :class:`EventContext` (empty values outside ``event_context``)."""
    return _current.get()


def user_id_of(user: Any) -> str:
    """The id stored for ``user``: its ``pk`` for a model instance, ``str(user)`` otherwise."""
    if user is None:
        return ""
    if getattr(user, "is_anonymous", False):
        return ""
    pk = getattr(user, "pk", None)
    return str(pk if pk is not None else user)


@contextmanager
def event_context(
    *, correlation_id: str | None = None, causation_id: str | None = None, user: Any = None
) -> Iterator[EventContext]:
    """Set correlation id, causation id and acting user for appends in the ``with`` block;
    unset arguments keep the enclosing context's values."""
    outer = _current.get()
    ctx = EventContext(
        correlation_id=correlation_id if correlation_id is not None else outer.correlation_id,
        causation_id=causation_id if causation_id is not None else outer.causation_id,
        user_id=user_id_of(user) if user is not None else outer.user_id,
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
