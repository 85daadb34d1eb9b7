"""Models of the control panel: its permissions and the log of actions taken in it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PanelPermission(models.Model):
    """Carries the panel's permissions; it has no table (``managed = False``).

    Django creates a ``Permission`` row for each entry of ``Meta.permissions`` after
    ``migrate``, so they can be granted to users and groups in the admin like any other.
    """

    class Meta:
        managed = False
        db_table = "patterns_admin_panelpermission"
        default_permissions = ()
        permissions = [
            ("view_audit", "Can read the audit log in the panel"),
            ("view_commands", "Can read the command log in the panel"),
            ("view_streams", "Can read event streams in the panel"),
            ("view_projections", "Can read projections in the panel"),
            ("view_cqrs", "Can read replication status and dead letters in the panel"),
            ("view_sensitive", "Can see sensitive fields unmasked in the panel"),
            ("force_undo", "Can force an undo whose objects changed since the command ran"),
            ("trigger_transition", "Can trigger state transitions from the panel"),
            ("undo_command", "Can undo commands from the panel"),
            ("toggle_plugin", "Can enable and disable plugins from the panel"),
            ("replay_events", "Can replay events and rebuild projections from the panel"),
            ("manage_cqrs", "Can resync replicas and replay dead letters from the panel"),
        ]

    def __str__(self) -> str:
        return "control panel permissions"


class PanelActionLog(models.Model):
    """One action a staff user took in the panel (trigger, undo, toggle, replay, ...)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    action = models.CharField(max_length=100, help_text="What was done, e.g. 'undo_command'.")
    target = models.CharField(max_length=255, help_text="What it was done to, e.g. 'command#42'.")
    detail = models.JSONField(default=dict, blank=True)
    success = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "panel action"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="pa_pal_created"),
            models.Index(fields=["action", "-created_at"], name="pa_pal_action"),
            models.Index(fields=["user", "-created_at"], name="pa_pal_user"),
        ]

    def __str__(self) -> str:
        status = "ok" if self.success else "failed"
        return f"{self.action} {self.target} ({status})"
