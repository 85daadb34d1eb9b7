"""Audit rows written by ``StateMachine.trigger`` and ``Command.execute`` / ``undo``.

dmr-toolkit 0.1.0 named some of these columns differently (``CommandAuditLog.command_class``,
``input_params``, ``executed_by``, ``timestamp``; ``StateTransitionAudit.triggered_by``,
``timestamp``). Both spellings work: the published names are properties (read, write, and
keyword arguments of the constructor and ``objects.create``), and the default manager aliases
them for ``filter()``, ``exclude()``, ``order_by()`` and ``update()`` lookups, so
``CommandAuditLog.objects.filter(executed_by=user, timestamp__gte=since)`` works. They are
aliases, not columns: ``values("timestamp")`` and ``only("timestamp")`` need our names.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import F, FilteredRelation
from django.utils import timezone

_M = TypeVar("_M", bound=models.Model)


class PublishedNamesManager(models.Manager[_M]):
    """The default manager, with dmr-toolkit 0.1.0's field names usable in lookups.

    Each published name is an ``alias()`` of our field (a ``FilteredRelation`` for a foreign
    key, so ``executed_by__username`` works too); an alias costs nothing until a query uses
    it, and a join to the users table is made only when a lookup goes through it.
    """

    def __init__(self, fields: dict[str, str], relations: dict[str, str]) -> None:
        super().__init__()
        self.fields = fields
        self.relations = relations

    def get_queryset(self) -> models.QuerySet[_M]:
        aliases: dict[str, Any] = {alias: F(field) for alias, field in self.fields.items()}
        aliases.update({alias: FilteredRelation(field) for alias, field in self.relations.items()})
        queryset: models.QuerySet[_M] = super().get_queryset().alias(**aliases)
        return queryset


def _published(field: str, doc: str) -> Any:
    """A read/write property named as dmr-toolkit 0.1.0 named ``field``."""

    def fget(self: models.Model) -> Any:
        return getattr(self, field)

    def fset(self: models.Model, value: Any) -> None:
        setattr(self, field, value)

    return property(fget, fset, doc=doc)


class StateTransitionAudit(models.Model):
    """One successful state transition, written in the transaction that changed the state."""

    model = models.CharField(
        max_length=200, help_text="Model label of the entity, e.g. 'orders.order'."
    )
    object_id = models.CharField(max_length=255, help_text="Primary key of the entity, as text.")
    machine = models.CharField(max_length=200, help_text="Registered name of the state machine.")
    transition = models.CharField(max_length=100)
    from_state = models.CharField(max_length=100)
    to_state = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    reason = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PublishedNamesManager["StateTransitionAudit"](
        fields={"timestamp": "created_at"}, relations={"triggered_by": "user"}
    )

    triggered_by = _published("user", "dmr-toolkit 0.1.0's name for ``user``.")
    timestamp = _published("created_at", "dmr-toolkit 0.1.0's name for ``created_at``.")

    class Meta:
        verbose_name = "state transition audit"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="tk_sta_created"),
            models.Index(fields=["model", "object_id", "-created_at"], name="tk_sta_object"),
            # The panel filters by object id alone too (any model): give it its own index.
            models.Index(fields=["object_id", "-created_at"], name="tk_sta_object_id"),
            models.Index(fields=["transition", "-created_at"], name="tk_sta_transition"),
            models.Index(fields=["from_state", "-created_at"], name="tk_sta_from"),
            models.Index(fields=["to_state", "-created_at"], name="tk_sta_to"),
            models.Index(fields=["user", "-created_at"], name="tk_sta_user"),
            # One user's transitions of one kind, the panel's "filtered" audit view: its page
            # and its capped result count read this index alone (at 1,000,000 rows the count
            # scanned the table, 19 ms, against 2 ms).
            models.Index(
                fields=["user", "transition", "-created_at"], name="tk_sta_user_transition"
            ),
            # The panel's model facet counted over a transition and a month (the audit log's
            # "facet+date" view): without it PostgreSQL counted that option by a capped
            # sequential scan, whose synchronised start block left one request in ~100 reading
            # most of the table (60-120 ms at 1,000,000 rows, against 0.3 ms here).
            models.Index(
                fields=["model", "transition", "-created_at"], name="tk_sta_model_transition"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.model}#{self.object_id}: {self.transition} "
            f"({self.from_state} → {self.to_state})"
        )


class CommandAuditLog(models.Model):
    """One command execution or undo, written in the transaction of the command's own writes.

    An undo is a row of its own whose ``undo_of`` points at the original. A partial unique
    constraint lets at most one *successful* undo exist per original, so two concurrent undo
    requests cannot both commit.
    """

    class Kind(models.TextChoices):
        EXECUTE = "execute", "execute"
        UNDO = "undo", "undo"

    command = models.CharField(
        max_length=255, help_text="Dotted path of the command class, e.g. 'demo.commands.Refund'."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.EXECUTE)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    success = models.BooleanField(default=True)
    error = models.TextField(blank=True, default="")
    undoable = models.BooleanField(default=False, help_text="Whether the command can be undone.")
    undo_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="undo_attempts",
    )
    undo_state = models.JSONField(
        null=True,
        blank=True,
        help_text="What the undo needs besides the params (Command.undo_state()).",
    )
    duration_ms = models.FloatField(null=True, blank=True)
    correlation_id = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        help_text=(
            "The request's correlation id (the event store's event_context), shared with the "
            "events the command appended; None for rows written before it was recorded."
        ),
    )
    causation_id = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text=(
            "The id of the event whose handler ran the command (the event store's "
            "event_context), empty when no event caused it."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = PublishedNamesManager["CommandAuditLog"](
        fields={"command_class": "command", "input_params": "params", "timestamp": "created_at"},
        relations={"executed_by": "user"},
    )

    command_class = _published(
        "command",
        "dmr-toolkit 0.1.0's name for ``command`` (here the dotted path, there the class name).",
    )
    input_params = _published("params", "dmr-toolkit 0.1.0's name for ``params``.")
    executed_by = _published("user", "dmr-toolkit 0.1.0's name for ``user``.")
    timestamp = _published("created_at", "dmr-toolkit 0.1.0's name for ``created_at``.")

    class Meta:
        verbose_name = "command audit log"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["undo_of"],
                condition=models.Q(success=True),
                name="tk_cal_one_successful_undo",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="tk_cal_created"),
            models.Index(fields=["command", "-created_at"], name="tk_cal_command"),
            models.Index(fields=["success", "-created_at"], name="tk_cal_success"),
            models.Index(fields=["user", "-created_at"], name="tk_cal_user"),
            # The panel's correlation view: one request's commands in time order.
            models.Index(fields=["correlation_id", "created_at"], name="tk_cal_correlation"),
            # The command log's execute/undo facet counts each kind: without it, counting
            # the undo rows (few or none) read the whole table on every page.
            models.Index(fields=["kind", "-created_at"], name="tk_cal_kind"),
        ]

    def __str__(self) -> str:
        status = "ok" if self.success else "failed"
        return f"{self.kind} {self.command} ({status})"

    @property
    def can_undo(self) -> bool:
        """True for a successful, undoable execution that has not been undone yet.

        Uses the ``is_undone`` annotation of :func:`toolkit.patterns.command.with_undo_status`
        when the row carries it (no query), else asks the database.
        """
        if self.kind != self.Kind.EXECUTE or not self.success or not self.undoable:
            return False
        annotated = self.__dict__.get("is_undone")
        if annotated is not None:
            return not annotated
        undos = CommandAuditLog.objects.using(self._state.db or "default")
        return not undos.filter(undo_of_id=self.pk, success=True).exists()
