"""Persisted plugin state: which plugins are enabled, honoured by every process."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PluginState(models.Model):
    """Whether the plugin ``name`` is enabled; absent rows mean 'enabled' (the default)."""

    name = models.CharField(max_length=200, unique=True)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "plugin state"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}: {'enabled' if self.enabled else 'disabled'}"
