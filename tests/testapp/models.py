"""A UUID-pk model and an integer-pk model, so audit rows prove text object ids."""

from __future__ import annotations

import uuid

from django.db import models


class Ticket(models.Model):
    """Support ticket with a UUID primary key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=20, default="open")

    def __str__(self) -> str:
        return self.title or str(self.id)


class Invoice(models.Model):
    """Invoice with an integer primary key."""

    number = models.CharField(max_length=30, blank=True, default="")
    amount = models.IntegerField(default=0)
    status = models.CharField(max_length=20, default="draft")

    def __str__(self) -> str:
        return self.number or f"invoice {self.pk}"


class Parcel(models.Model):
    """Parcel whose ``status`` a protected state machine guards (only ``trigger`` moves it)."""

    label = models.CharField(max_length=30, blank=True, default="")
    status = models.CharField(max_length=20, default="packed")

    def __str__(self) -> str:
        return self.label or f"parcel {self.pk}"


class Shipment(models.Model):
    """Protected state field with a database default (the INSERT returns the value)."""

    status = models.CharField(max_length=20, db_default="booked")

    def __str__(self) -> str:
        return f"shipment {self.pk} ({self.status})"


class ProjectedTally(models.Model):
    """Read model of the projection-scale tests: per stream, events counted and ``n`` summed."""

    aggregate_id = models.CharField(max_length=100, unique=True)
    count = models.IntegerField(default=0)
    total = models.BigIntegerField(default=0)


class ProjectedApplication(models.Model):
    """One row per ``handle`` call (no unique key), so a double application shows."""

    position = models.BigIntegerField(db_index=True)
    aggregate_id = models.CharField(max_length=100)
