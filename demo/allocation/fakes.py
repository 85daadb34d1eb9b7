"""In-memory stand-ins for the handler tests, as the book writes them in ``test_handlers.py``.

::

    bus = bootstrap.bootstrap(
        start_orm=False, uow=FakeUnitOfWork(), notifications=FakeNotifications(),
        publish=lambda *args: None,
    )
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from demo.allocation import model
from demo.allocation.notifications import AbstractNotifications
from demo.allocation.repository import AbstractRepository
from demo.allocation.unit_of_work import AbstractUnitOfWork


class FakeRepository(AbstractRepository):
    """Products in a set."""

    def __init__(self, products: Iterable[model.Product]) -> None:
        super().__init__()
        self._products = set(products)

    def _add(self, product: model.Product) -> None:
        self._products.add(product)

    def _get(self, sku: str) -> model.Product | None:
        return next((p for p in self._products if p.sku == sku), None)

    def _get_by_batchref(self, batchref: str) -> model.Product | None:
        return next((p for p in self._products for b in p.batches if b.reference == batchref), None)


class FakeUnitOfWork(AbstractUnitOfWork):
    """A :class:`FakeRepository` that remembers whether ``commit()`` was called."""

    def __init__(self) -> None:
        self.products = FakeRepository([])
        self.committed = False

    def _commit(self) -> None:
        self.committed = True

    def rollback(self) -> None:
        pass


class FakeNotifications(AbstractNotifications):
    """Records what was sent, per destination."""

    def __init__(self) -> None:
        self.sent: dict[str, list[str]] = defaultdict(list)

    def send(self, destination: str, message: str) -> None:
        self.sent[destination].append(message)
