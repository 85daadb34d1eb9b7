"""Unit of Work: one atomic transaction, with bus events dispatched only after commit.

::

    uow = UnitOfWork()
    with uow:
        order = order_repo.add(Order(user_id=42, total=99.99))
        bus.emit("order.created", {"id": order.id})   # held back
    # committed; "order.created" dispatched now

    with uow:                      # the same instance can be reused and nested
        order_repo.add(order)
        with uow:                  # a savepoint
            raise ValueError()     # rolls back the inner block and drops its events only

    async with uow:                # the transaction runs on Django's thread-sensitive thread
        await order_repo.aadd(order)

Events emitted on *any* :class:`~toolkit.patterns.observer.EventBus` inside the block are held in
a context-local buffer; on rollback they are dropped. When the outermost unit of work sits inside
a plain ``transaction.atomic()`` block, its events wait for that block's commit as well
(``transaction.on_commit``).
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from toolkit.core.exceptions import EventDispatchError
from toolkit.patterns.observer import pending_events

if TYPE_CHECKING:
    from django.db.transaction import Atomic

    from toolkit.patterns.observer import EventBus

__all__ = ["UnitOfWork"]


Pending = list[tuple["EventBus", str, Any]]


@dataclass
class _Frame:
    atomic: Atomic
    token: Token[Pending | None]
    parent: Pending | None
    owner: object
    using: str
    events: Pending = field(default_factory=list)


#: Open frames of this context, innermost last. ``with`` blocks nest strictly within one
#: context, so the frame to close is always the last one, whichever instance opened it.
_frames: ContextVar[tuple[_Frame, ...]] = ContextVar("toolkit_uow_frames", default=())


class UnitOfWork:
    """Group writes into one transaction; dispatch bus events after it commits.

    ``using`` is the database alias (default: Django's default database). The instance
    keeps no per-block state of its own, so it can be reused, nested and shared.

    ``event_bus`` and :meth:`register_repository` are dmr-toolkit 0.1.0's spellings, kept
    for code written against it: events on *every* bus are held back here, so naming the bus
    changes nothing, and the registered repositories are only listed in ``repositories``.
    """

    def __init__(self, *, using: str | None = None, event_bus: EventBus | None = None) -> None:
        self.using = using
        self.event_bus = event_bus
        self.repositories: list[Any] = []

    def register_repository(self, repository: Any) -> None:
        """Remember ``repository`` in :attr:`repositories` (dmr-toolkit 0.1.0's hook)."""
        self.repositories.append(repository)

    # -- sync ----------------------------------------------------------------------------

    def __enter__(self) -> UnitOfWork:
        owner = object()
        self._open(self._enter_atomic(owner), owner)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        frame = _frames.get()[-1]
        try:
            due = self._exit_atomic(frame, exc_type, exc, tb)
        finally:
            self._close(frame)
        if due:
            _dispatch_all(due)

    # -- async ---------------------------------------------------------------------------

    async def __aenter__(self) -> UnitOfWork:
        from asgiref.sync import sync_to_async

        # The transaction lives on the thread-sensitive thread, where sync_to_async (and
        # therefore the ORM's async methods) run the queries of this block.
        owner = object()
        atomic = await sync_to_async(self._enter_atomic, thread_sensitive=True)(owner)
        self._open(atomic, owner)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from asgiref.sync import sync_to_async

        frame = _frames.get()[-1]
        try:
            due = await sync_to_async(self._exit_atomic, thread_sensitive=True)(
                frame, exc_type, exc, tb
            )
        finally:
            self._close(frame)
        if due:
            await _adispatch_all(due)

    # -- internals -----------------------------------------------------------------------

    def _alias(self) -> str:
        from django.db import DEFAULT_DB_ALIAS

        return self.using or DEFAULT_DB_ALIAS

    def _enter_atomic(self, owner: object) -> Atomic:
        """Open the transaction (or savepoint) on the connection of this thread.

        Refuses a block that would nest into a unit of work of *another* context sharing this
        connection (two ``async with`` blocks interleaved in concurrent tasks of one request):
        Django would silently turn it into a savepoint of the other's transaction.
        """
        from django.db import transaction

        alias = self._alias()
        connection = transaction.get_connection(alias)
        stack: list[object] = connection.__dict__.setdefault("_toolkit_units_of_work", [])
        mine = [f.owner for f in _frames.get() if f.using == alias]
        expected = mine[-1] if mine else None
        if (stack[-1] if stack else None) is not expected:
            raise transaction.TransactionManagementError(
                f"A UnitOfWork on database {alias!r} is already open in another task or "
                "context sharing this connection; concurrent units of work would share one "
                "transaction. Run them one after the other, or each in its own "
                "asgiref.sync.ThreadSensitiveContext."
            )
        atomic = transaction.atomic(using=alias)
        atomic.__enter__()
        stack.append(owner)
        return atomic

    def _open(self, atomic: Atomic, owner: object) -> None:
        parent = pending_events.get()
        events: Pending = []
        token = pending_events.set(events)
        frame = _Frame(
            atomic=atomic,
            token=token,
            parent=parent,
            owner=owner,
            using=self._alias(),
            events=events,
        )
        _frames.set((*_frames.get(), frame))

    def _close(self, frame: _Frame) -> None:
        pending_events.reset(frame.token)
        _frames.set(_frames.get()[:-1])

    def _exit_atomic(
        self,
        frame: _Frame,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Pending:
        """Commit or roll back, then route the held-back events; return those due now.

        Runs on the thread of the transaction. On success the events go to the enclosing
        unit of work, or wait for the enclosing ``atomic`` block's commit, or are due now.
        """
        from django.db import transaction

        stack: list[object] = transaction.get_connection(frame.using).__dict__.get(
            "_toolkit_units_of_work", []
        )
        try:
            # Commits or rolls back; on_commit callbacks run here and may emit into our
            # buffer (or open units of work of their own, nested in this frame).
            frame.atomic.__exit__(exc_type, exc, tb)
        finally:
            if stack and stack[-1] is frame.owner:
                stack.pop()
        events = frame.events
        if exc_type is not None or not events:
            return []
        if frame.parent is not None:
            frame.parent.extend(events)
            return []
        if transaction.get_connection(frame.using).in_atomic_block:
            transaction.on_commit(lambda: _dispatch_all(events), using=frame.using)
            return []
        return events


def _dispatch_all(events: Pending) -> None:
    """Dispatch every held-back event, in order; raise the gathered errors at the end."""
    errors: list[tuple[str, BaseException]] = []
    names: list[str] = []
    for bus, event, payload in events:
        try:
            bus.dispatch(event, payload)
        except EventDispatchError as exc:
            names.append(event)
            errors.extend(exc.failures)
    if errors:
        raise EventDispatchError(", ".join(names), errors)


async def _adispatch_all(events: Pending) -> None:
    errors: list[tuple[str, BaseException]] = []
    names: list[str] = []
    for bus, event, payload in events:
        try:
            await bus.adispatch(event, payload)
        except EventDispatchError as exc:
            names.append(event)
            errors.extend(exc.failures)
    if errors:
        raise EventDispatchError(", ".join(names), errors)
