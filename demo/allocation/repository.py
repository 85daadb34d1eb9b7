"""The book's repository: ``AbstractRepository`` and its Django adapter.

``AbstractRepository`` is the book's contract: ``add(product)``, ``get(sku)`` and
``get_by_batchref(batchref)`` (``None`` when there is none), and ``seen``, the products handed
out or added, from which the unit of work collects their events. A subclass implements
``_add``, ``_get`` and ``_get_by_batchref``. ``FakeRepository`` (``demo.allocation.fakes``) is
the in-memory one for tests; :class:`DjangoRepository` maps the ORM rows.

:class:`DjangoRepository` loads a product with its batches and lines (two queries, prefetched)
and writes the changes back in :meth:`DjangoRepository.persist`, which the unit of work's
``commit()`` calls for every product it has seen. The write is guarded by the version number::

    UPDATE allocation_product SET version_number = version_number + 1
     WHERE sku = %s AND version_number = <the version read>

When no row matches, another transaction saved first: the toolkit's
:class:`~toolkit.patterns.exceptions.ConcurrencyConflict` is raised and the transaction rolls
back (the book relies on PostgreSQL's REPEATABLE READ for the same guarantee).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from django.db.models import F, Prefetch

from demo.allocation import model, models
from toolkit.patterns.exceptions import ConcurrencyConflict


class AbstractRepository(abc.ABC):
    """The book's product repository: what it hands out or is given is ``seen``."""

    def __init__(self) -> None:
        self.seen: set[model.Product] = set()

    def add(self, product: model.Product) -> None:
        """Store a new product."""
        self._add(product)
        self.seen.add(product)

    def get(self, sku: str) -> model.Product | None:
        """The product of ``sku``, or ``None``."""
        product = self._get(sku)
        if product:
            self.seen.add(product)
        return product

    def get_by_batchref(self, batchref: str) -> model.Product | None:
        """The product that owns batch ``batchref``, or ``None``."""
        product = self._get_by_batchref(batchref)
        if product:
            self.seen.add(product)
        return product

    @abc.abstractmethod
    def _add(self, product: model.Product) -> None:
        """Store ``product`` (new)."""

    @abc.abstractmethod
    def _get(self, sku: str) -> model.Product | None:
        """Load the product of ``sku``, or return ``None``."""

    @abc.abstractmethod
    def _get_by_batchref(self, batchref: str) -> model.Product | None:
        """Load the product owning batch ``batchref``, or return ``None``."""


@dataclass
class _Read:
    """What was read: the version and, per batch reference, its quantity and lines."""

    version: int
    batches: dict[str, tuple[int, set[model.OrderLine]]] = field(default_factory=dict)


class DjangoRepository(AbstractRepository):
    """Products in the ``allocation`` tables; one repository per unit of work."""

    def __init__(self) -> None:
        super().__init__()
        self._read: dict[str, _Read] = {}

    def _add(self, product: model.Product) -> None:
        models.Product.objects.create(sku=product.sku, version_number=product.version_number)
        self._read[product.sku] = _Read(version=product.version_number)

    def _get(self, sku: str) -> model.Product | None:
        batches = models.Batch.objects.order_by("id").prefetch_related(
            Prefetch("allocations", queryset=models.Allocation.objects.order_by("id"))
        )
        row = (
            models.Product.objects.prefetch_related(Prefetch("batches", queryset=batches))
            .filter(sku=sku)
            .first()
        )
        if row is None:
            return None
        product = model.Product(
            row.sku,
            [self._batch(row.sku, b) for b in row.batches.all()],
            version_number=row.version_number,
        )
        self._remember(product)
        return product

    def _get_by_batchref(self, batchref: str) -> model.Product | None:
        sku = (
            models.Batch.objects.filter(reference=batchref)
            .values_list("product__sku", flat=True)
            .first()
        )
        return None if sku is None else self._get(sku)

    @staticmethod
    def _batch(sku: str, row: models.Batch) -> model.Batch:
        batch = model.Batch(row.reference, sku, row.purchased_quantity, row.eta)
        for a in row.allocations.all():
            batch.allocate(model.OrderLine(a.orderid, a.sku, a.qty))
        return batch

    def _remember(self, product: model.Product) -> None:
        self._read[product.sku] = _Read(
            version=product.version_number,
            batches={
                b.reference: (b.purchased_quantity, set(b.allocations)) for b in product.batches
            },
        )

    def persist(self, product: model.Product) -> None:
        """Write the changes made to ``product`` since it was read, guarded by its version.

        Nothing is written for an unchanged product. The stored version moves by one per
        save, whatever the product's own counter says.
        """
        read = self._read[product.sku]
        if not self._changed(product, read):
            return
        updated = models.Product.objects.filter(
            sku=product.sku, version_number=read.version
        ).update(version_number=F("version_number") + 1)
        if updated != 1:
            actual = (
                models.Product.objects.filter(sku=product.sku)
                .values_list("version_number", flat=True)
                .first()
            )
            raise ConcurrencyConflict(product.sku, read.version, actual)
        product_id = models.Product.objects.values_list("id", flat=True).get(sku=product.sku)
        for batch in product.batches:
            self._persist_batch(product_id, batch, read.batches.get(batch.reference))
        product.version_number = read.version + 1
        self._remember(product)

    @staticmethod
    def _changed(product: model.Product, read: _Read) -> bool:
        now = {b.reference: (b.purchased_quantity, set(b.allocations)) for b in product.batches}
        return now != read.batches or product.version_number != read.version

    def _persist_batch(
        self,
        product_id: int,
        batch: model.Batch,
        before: tuple[int, set[model.OrderLine]] | None,
    ) -> None:
        if before is None:
            row = models.Batch.objects.create(
                reference=batch.reference,
                product_id=product_id,
                purchased_quantity=batch.purchased_quantity,
                eta=batch.eta,
            )
            old_lines: set[model.OrderLine] = set()
            old_quantity, batch_id = batch.purchased_quantity, row.id
        else:
            old_quantity, old_lines = before
            batch_id = models.Batch.objects.values_list("id", flat=True).get(
                reference=batch.reference
            )
        if batch.purchased_quantity != old_quantity:
            models.Batch.objects.filter(id=batch_id).update(
                purchased_quantity=batch.purchased_quantity
            )
        current = set(batch.allocations)
        for line in old_lines - current:
            models.Allocation.objects.filter(
                batch_id=batch_id, orderid=line.orderid, sku=line.sku
            ).delete()
        models.Allocation.objects.bulk_create(
            models.Allocation(batch_id=batch_id, orderid=line.orderid, sku=line.sku, qty=line.qty)
            for line in batch.allocations
            if line not in old_lines
        )
