"""Projection tables: one control row per projection, one row per segment, workers, dead letters.

A projection's streams are split over ``segments`` (``crc32(aggregate_id) % segments``). Each
:class:`ProjectionSegment` row is at the same time the segment's checkpoint and its lease: the
worker named in ``owner`` may process the segment until ``lease_expires_at`` and renews the
lease while it lives. A batch locks its segment rows (``SELECT ... FOR UPDATE``) and saves
their positions in the transaction that writes the read model, so every event is applied
exactly once however the leases move. See :mod:`toolkit.eventsourcing.projections`.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class ProjectionCheckpoint(models.Model):
    """One persistent projection: its status, whether it is paused, its restarts.

    The positions live on the projection's :class:`ProjectionSegment` rows; this row holds
    what concerns the projection as a whole. ``gaps_skipped`` counts holes in the positions
    that stayed open longer than ``projection_gap_timeout`` (rolled-back appends, or a
    transaction that never committed) and ``last_gap`` describes the latest.
    """

    STATUS_CHOICES = [
        ("idle", "idle"),
        ("running", "running"),
        ("paused", "paused"),
        ("failed", "failed"),
        ("stalled", "stalled"),
        ("rebuilding", "rebuilding"),
    ]

    name = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default="idle")
    paused = models.BooleanField(default=False)
    segments = models.PositiveIntegerField(default=1)
    restarts = models.PositiveIntegerField(default=0)
    gaps_skipped = models.PositiveBigIntegerField(default=0)
    last_gap = models.CharField(max_length=255, blank=True, default="")
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "projection checkpoint"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class ProjectionSegment(models.Model):
    """One segment of a projection: its checkpoint, its lease, its retry state.

    ``position`` is the global position up to which the segment's events have been handled.
    ``owner`` / ``lease_expires_at`` are the lease (an empty owner: free). While the event at
    ``retry_position`` keeps failing, ``attempts`` counts the tries and the segment waits
    until ``retry_at``; ``failed`` is set when a projection that stops on poison events
    gave up on it. ``rate`` is the events per second of the last batches.
    """

    projection = models.CharField(max_length=255)
    segment = models.PositiveIntegerField()
    position = models.PositiveBigIntegerField(default=0)
    events_handled = models.PositiveBigIntegerField(default=0)
    owner = models.CharField(max_length=255, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    progressed_at = models.DateTimeField(null=True, blank=True)
    rate = models.FloatField(default=0.0)
    attempts = models.PositiveIntegerField(default=0)
    retry_position = models.PositiveBigIntegerField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    failed = models.BooleanField(default=False)
    last_error = models.TextField(blank=True, default="")
    last_traceback = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "projection segment"
        ordering = ["projection", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["projection", "segment"], name="tk_ps_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.projection}[{self.segment}] @{self.position}"


class ProjectionWorker(models.Model):
    """A live ``run_projections`` process for one projection; ``heartbeat_at`` says it lives.

    Workers count the live rows to compute their fair share of segments.
    """

    projection = models.CharField(max_length=255)
    worker = models.CharField(max_length=255)
    hostname = models.CharField(max_length=255, blank=True, default="")
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "projection worker"
        ordering = ["projection", "worker"]
        constraints = [
            models.UniqueConstraint(fields=["projection", "worker"], name="tk_pw_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.projection}: {self.worker}"


class ProjectionDeadLetter(models.Model):
    """An event a projection's handler failed on ``attempts`` times, with the last error.

    The projection moved on without it; :func:`~toolkit.eventsourcing.projections.
    retry_dead_letter` applies it (once) and deletes the row, ``drop_dead_letter`` deletes it.
    """

    projection = models.CharField(max_length=255)
    segment = models.PositiveIntegerField(default=0)
    position = models.PositiveBigIntegerField()
    event_id = models.UUIDField(default=uuid.uuid4)
    aggregate_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=255)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "projection dead letter"
        ordering = ["projection", "position"]
        constraints = [
            models.UniqueConstraint(fields=["projection", "position"], name="tk_pdl_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.projection} @{self.position} {self.event_type}"
