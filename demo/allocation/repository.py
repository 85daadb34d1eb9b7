"""The Django repository of :class:`~demo.allocation.logic.Product` aggregates.

It maps the ORM rows to the domain objects and back, and enforces the optimistic lock: a save
runs ``UPDATE product SET version_number = version_number + 1 WHERE sku = %s AND
version_number = <the version read>``; when no row matches, another transaction saved first
and :class:`~toolkit.patterns.exceptions.ConcurrencyConflict` is raised (the unit of work
rolls back and the events are dropped). Use one repository per unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F, Prefetch

from demo.allocation import logic, models
from toolkit.ddd import Repository
from toolkit.patterns.exceptions import ConcurrencyConflict, NotFound


@dataclass
class _Seen:
    """What was read: the version and, per batch reference, its quantity and lines."""

    version: int
    batches: dict[str, tuple[int, set[logic.OrderLine]]] = field(default_factory=dict)


class ProductRepository(Repository[logic.Product, str]):
    """Loads and saves products with their batches and allocations."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._seen: dict[str, _Seen] = {}

    def get(self, aggregate_id: str) -> logic.Product:
        """The product of SKU ``aggregate_id``, or ``NotFound``."""
        batches = models.Batch.objects.order_by("id").prefetch_related(
            Prefetch("allocations", queryset=models.Allocation.objects.order_by("id"))
        )
        try:
            row = models.Product.objects.prefetch_related(
                Prefetch("batches", queryset=batches)
            ).get(sku=aggregate_id)
        except models.Product.DoesNotExist:
            raise NotFound("Product", aggregate_id) from None
        product = logic.Product(
            sku=row.sku,
            version_number=row.version_number,
            batches=[
                logic.Batch(
                    reference=b.reference,
                    sku=row.sku,
                    purchased_quantity=b.purchased_quantity,
                    eta=b.eta,
                    allocations=[
                        logic.OrderLine(orderid=a.orderid, sku=a.sku, qty=a.qty)
                        for a in b.allocations.all()
                    ],
                )
                for b in row.batches.all()
            ],
        )
        self._remember(product)
        return product

    def get_by_batchref(self, reference: str) -> logic.Product:
        """The product that owns batch ``reference``, or ``NotFound``."""
        sku = (
            models.Batch.objects.filter(reference=reference)
            .values_list("product__sku", flat=True)
            .first()
        )
        if sku is None:
            raise NotFound("Batch", reference)
        return self.get(sku)

    def get_or_create(self, sku: str) -> logic.Product:
        """The product of ``sku``; a new one (version 0) is inserted when there is none."""
        models.Product.objects.get_or_create(sku=sku)
        return self.get(sku)

    def _remember(self, product: logic.Product) -> None:
        self._seen[product.sku] = _Seen(
            version=product.version_number,
            batches={
                b.reference: (b.purchased_quantity, set(b.allocations)) for b in product.batches
            },
        )

    def persist(self, aggregate: logic.Product) -> None:
        """Write the changes since :meth:`get`, guarded by the version number."""
        seen = self._seen.get(aggregate.sku)
        if seen is None:
            raise NotFound("Product", aggregate.sku)
        if aggregate.version_number == seen.version:
            return  # nothing changed: no write, no version bump
        updated = models.Product.objects.filter(
            sku=aggregate.sku, version_number=seen.version
        ).update(version_number=F("version_number") + 1)
        if updated != 1:
            actual = (
                models.Product.objects.filter(sku=aggregate.sku)
                .values_list("version_number", flat=True)
                .first()
            )
            raise ConcurrencyConflict(aggregate.sku, seen.version, actual)
        product_id = models.Product.objects.values_list("id", flat=True).get(sku=aggregate.sku)
        for batch in aggregate.batches:
            self._persist_batch(product_id, batch, seen.batches.get(batch.reference))
        aggregate.version_number = seen.version + 1
        self._remember(aggregate)

    def _persist_batch(
        self,
        product_id: int,
        batch: logic.Batch,
        before: tuple[int, set[logic.OrderLine]] | None,
    ) -> None:
        if before is None:
            row = models.Batch.objects.create(
                reference=batch.reference,
                product_id=product_id,
                purchased_quantity=batch.purchased_quantity,
                eta=batch.eta,
            )
            old_quantity = batch.purchased_quantity
            old_lines: set[logic.OrderLine] = set()
            batch_id = row.id
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
