"""The ``Order`` / ``User`` / inventory stand-ins the seed README's examples refer to."""

from __future__ import annotations

from django.db import models


class User(models.Model):
    """The seed's ``User``: an id and a name."""

    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """The seed's ``Order``: every field one of its examples reads or writes."""

    user_id = models.IntegerField(default=0, db_index=True)
    status = models.CharField(max_length=20, default="pending")
    tier = models.CharField(max_length=20, default="standard")
    total = models.FloatField(default=0.0)
    subtotal = models.FloatField(default=0.0)
    item = models.CharField(max_length=100, blank=True, default="")
    items = models.JSONField(default=list, blank=True)
    email = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"order {self.pk}"

    @property
    def can_cancel(self) -> bool:
        return self.total < 1000


class InventoryItem(models.Model):
    """The seed's ``item`` updated by ``inventory_repo`` inside a UnitOfWork."""

    sku = models.CharField(max_length=40, unique=True)
    quantity = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.sku
