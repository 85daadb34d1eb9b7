"""Tables of ``toolkit.cqrs``: the master's outbox, replica revisions, gaps, dead letters.

Master side: :class:`CqrsOutbox` holds one row per message still to publish. The row is
written in the master's own transaction, so a commit always has its messages and a rollback
has none; it is deleted once the transport accepted the message.

Replica side: :class:`CqrsReplicaRevision` keeps the last applied revision per
(CQRS_ID, pk), which outlives deletes so a late SAVE cannot resurrect a deleted row;
:class:`CqrsRevisionGap` records each skipped revision range; :class:`CqrsDeadLetter` keeps
messages that could not be applied, with the reason, for listing and replay.
"""

from __future__ import annotations

from django.db import models

from toolkit.cqrs.constants import DeadLetterReason, SignalType


class CqrsOutbox(models.Model):
    """A message written with the master's transaction and published after its commit."""

    cqrs_id = models.CharField(max_length=100)
    instance_pk = models.CharField(max_length=100)
    signal_type = models.CharField(max_length=10, choices=[(s.value, s.value) for s in SignalType])
    revision = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = "CQRS outbox message"
        indexes = [models.Index(fields=["cqrs_id", "id"], name="toolkit_cqrs_outbox_id_idx")]

    def __str__(self) -> str:
        return f"{self.signal_type} {self.cqrs_id}#{self.instance_pk} r{self.revision}"


class CqrsReplicaRevision(models.Model):
    """The last revision a replica applied for one master instance."""

    cqrs_id = models.CharField(max_length=100)
    instance_pk = models.CharField(max_length=100)
    revision = models.BigIntegerField()
    deleted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "CQRS replica revision"
        constraints = [
            models.UniqueConstraint(
                fields=["cqrs_id", "instance_pk"], name="toolkit_cqrs_revision_unique"
            )
        ]
        indexes = [models.Index(fields=["cqrs_id", "-updated_at"], name="toolkit_cqrs_rev_upd_idx")]

    def __str__(self) -> str:
        return f"{self.cqrs_id}#{self.instance_pk} r{self.revision}"


class CqrsRevisionGap(models.Model):
    """Revisions a replica never saw: it held ``expected - 1`` and received ``received``."""

    cqrs_id = models.CharField(max_length=100)
    instance_pk = models.CharField(max_length=100)
    expected = models.BigIntegerField()
    received = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "CQRS revision gap"
        indexes = [models.Index(fields=["cqrs_id", "id"], name="toolkit_cqrs_gap_idx")]

    def __str__(self) -> str:
        return f"{self.cqrs_id}#{self.instance_pk}: expected r{self.expected}, got r{self.received}"


class CqrsDeadLetter(models.Model):
    """A message the replica could not apply, kept with the reason for listing and replay."""

    payload = models.JSONField()
    cqrs_id = models.CharField(max_length=100, blank=True, default="")
    reason = models.CharField(max_length=20, choices=[(r.value, r.value) for r in DeadLetterReason])
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "CQRS dead letter"
        indexes = [
            models.Index(fields=["cqrs_id", "replayed_at"], name="toolkit_cqrs_dl_idx"),
        ]

    def __str__(self) -> str:
        return f"dead letter #{self.pk} ({self.reason}) {self.cqrs_id or '?'}"
