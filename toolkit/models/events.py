"""Event store tables: the event log, one row per stream, snapshots.

The event-sourcing package (:mod:`toolkit.eventsourcing`) owns these tables' semantics.
``EventStream`` holds one row per aggregate with its head sequence: appends advance it with a
conditional UPDATE, so the expected-sequence check happens in the database, and the panel lists
streams without a GROUP BY over the event log.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone


class EventStream(models.Model):
    """One aggregate's stream: its type, head sequence and last write time."""

    aggregate_id = models.CharField(max_length=255, unique=True)
    aggregate_type = models.CharField(max_length=255)
    last_sequence = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "event stream"
        indexes = [
            # The stream listing of one type, newest first, seeks here (keyset on updated_at, id).
            models.Index(
                fields=["aggregate_type", "-updated_at", "-id"], name="tk_es_type_updated"
            ),
            models.Index(fields=["-updated_at", "-id"], name="tk_es_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_type} {self.aggregate_id} @{self.last_sequence}"


_WRITE_REFUSED = (
    "DomainEvent rows are immutable and written only by EventStore.append() or "
    "append_batch(), which move the EventStream head and take the lock that keeps the global "
    "feed in commit order; {what} would bypass both."
)


class DomainEventQuerySet(models.QuerySet["DomainEvent"]):
    """Reads as usual; ORM writes are refused (see :meth:`DomainEvent.save`)."""

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[DomainEvent]:
        raise TypeError(_WRITE_REFUSED.format(what="DomainEvent.objects.bulk_create()"))

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise TypeError(_WRITE_REFUSED.format(what="DomainEvent.objects.bulk_update()"))

    def update(self, **kwargs: Any) -> int:
        raise TypeError(_WRITE_REFUSED.format(what="DomainEvent.objects.update()"))


class DomainEvent(models.Model):
    """One immutable event. ``id`` is the global position used by ``read_all``.

    Write events through :class:`toolkit.patterns.EventStore`; the ORM can read and delete
    rows but refuses to insert or change them, since such rows would skip the stream head
    and the advisory lock that keeps positions in commit order on PostgreSQL.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    aggregate_id = models.CharField(max_length=255)
    aggregate_type = models.CharField(max_length=255)
    sequence = models.PositiveBigIntegerField()
    event_type = models.CharField(max_length=255)
    schema_version = models.PositiveIntegerField(default=1)
    payload = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, default="")
    causation_id = models.CharField(max_length=64, blank=True, default="")
    user_id = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    objects = DomainEventQuerySet.as_manager()

    class Meta:
        verbose_name = "domain event"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_id", "sequence"], name="tk_de_unique_sequence"
            ),
        ]
        indexes = [
            models.Index(fields=["event_type", "id"], name="tk_de_type"),
            models.Index(fields=["aggregate_type", "id"], name="tk_de_agg_type"),
            # The panel's all-events feed filtered by correlation id (read_feed).
            models.Index(fields=["correlation_id", "id"], name="tk_de_correlation"),
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_id}#{self.sequence} {self.event_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refused: events are written by ``EventStore.append`` and never change."""
        raise TypeError(
            _WRITE_REFUSED.format(
                what=f"saving {self.aggregate_id!r} #{self.sequence!r} through the ORM"
            )
        )


class Snapshot(models.Model):
    """The folded state of an aggregate at one sequence."""

    aggregate_id = models.CharField(max_length=255)
    aggregate_type = models.CharField(max_length=255, blank=True, default="")
    sequence = models.PositiveBigIntegerField()
    state = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "snapshot"
        constraints = [
            models.UniqueConstraint(
                fields=["aggregate_id", "sequence"], name="tk_snap_unique_sequence"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.aggregate_id}@{self.sequence}"
