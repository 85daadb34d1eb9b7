"""The book's unit of work: ``AbstractUnitOfWork`` and its Django implementation.

Handlers write ``with uow: ...; uow.commit()``: work that is not committed is rolled back when
the block ends (``__exit__`` calls ``rollback()``), and ``collect_new_events()`` hands the
message bus the events of every product the block's repository has seen.

:class:`DjangoUnitOfWork` is that contract on the toolkit's
:class:`~toolkit.patterns.unit_of_work.UnitOfWork` (a ``transaction.atomic`` block, or a
savepoint inside one, whose toolkit-bus events wait for the commit): ``commit()`` writes the
seen products through the repository and commits, then opens a fresh transaction for anything
the block does after it, and ``rollback()`` marks the open transaction for rollback.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from django.db import transaction

from demo.allocation import events
from demo.allocation.repository import AbstractRepository, DjangoRepository
from toolkit.patterns.unit_of_work import UnitOfWork


class AbstractUnitOfWork(abc.ABC):
    """One atomic change of products, committed explicitly."""

    products: AbstractRepository

    def __enter__(self) -> AbstractUnitOfWork:
        return self

    def __exit__(self, *args: Any) -> None:
        self.rollback()

    def commit(self) -> None:
        """Make the block's changes permanent."""
        self._commit()

    def collect_new_events(self) -> Iterator[events.Event]:
        """Take the pending events of every product the repository has seen, oldest first."""
        for product in self.products.seen:
            while product.events:
                yield product.events.pop(0)

    @abc.abstractmethod
    def _commit(self) -> None:
        """Store the changes and commit them."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Drop the changes not committed yet (a no-op after ``commit()``)."""


class DjangoUnitOfWork(AbstractUnitOfWork):
    """A transaction per ``with`` block, with a :class:`DjangoRepository` of its own.

    ``using`` is the database alias (Django's default database when None).
    """

    def __init__(self, *, using: str | None = None) -> None:
        self.using = using
        self._transaction: UnitOfWork | None = None

    def __enter__(self) -> AbstractUnitOfWork:
        self.products = DjangoRepository()
        self._transaction = UnitOfWork(using=self.using)
        self._transaction.__enter__()
        return super().__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            block, self._transaction = self._transaction, None
            if block is not None:
                block.__exit__(exc_type, exc, tb)

    def _commit(self) -> None:
        block = self._transaction
        if block is None:
            raise RuntimeError("DjangoUnitOfWork.commit() works inside `with uow:` only")
        for product in self.products.seen:
            assert isinstance(self.products, DjangoRepository)
            self.products.persist(product)
        self._transaction = None  # closed even if the commit itself fails
        block.__exit__(None, None, None)  # commits; toolkit-bus events go out now
        self._transaction = UnitOfWork(using=self.using)
        self._transaction.__enter__()

    def rollback(self) -> None:
        if self._transaction is not None:
            transaction.set_rollback(True, using=self.using)
