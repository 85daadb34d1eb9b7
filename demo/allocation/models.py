"""Storage of the allocation domain: products, batches, allocations and the read model.

Thin active records: the rules are in ``model.py`` (the book's domain model).
``Product.version_number`` is the optimistic lock: the repository writes with ``UPDATE ... SET
version_number = version_number + 1 WHERE version_number = <read>``, so of two concurrent
writers one wins.
"""

from __future__ import annotations

from django.db import models


class Product(models.Model):
    """One SKU and its version number."""

    sku = models.CharField(max_length=255, unique=True)
    version_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "product"

    def __str__(self) -> str:
        return f"{self.sku} v{self.version_number}"


class Batch(models.Model):
    """Stock of one SKU; ``eta`` is empty for warehouse stock."""

    reference = models.CharField(max_length=255, unique=True)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="batches")
    purchased_quantity = models.PositiveIntegerField()
    eta = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return f"{self.reference} ({self.product_id})"


class Allocation(models.Model):
    """An order line allocated to a batch; one batch per (order, SKU)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="allocations")
    orderid = models.CharField(max_length=255)
    sku = models.CharField(max_length=255)
    qty = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["orderid", "sku"], name="allocation_one_per_line"),
        ]

    def __str__(self) -> str:
        return f"{self.orderid}/{self.sku} x{self.qty}"


class AllocationView(models.Model):
    """The read model (the book's ``allocations_view``), kept by event handlers."""

    orderid = models.CharField(max_length=255)
    sku = models.CharField(max_length=255)
    batchref = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["orderid", "sku"], name="allocations_view_line"),
        ]
        indexes = [models.Index(fields=["orderid"], name="allocations_view_order")]

    def __str__(self) -> str:
        return f"{self.orderid}/{self.sku} -> {self.batchref}"
