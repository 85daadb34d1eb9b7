"""Idempotency keys of event handlers run as Celery tasks (:mod:`toolkit.contrib.celery`)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class HandledEvent(models.Model):
    """One handler run that completed: its idempotency key, written in the handler's
    transaction, so a redelivered or retried task whose run already committed does nothing."""

    key = models.CharField(max_length=255, unique=True)
    handler = models.CharField(max_length=255)
    event = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "handled event"

    def __str__(self) -> str:
        return self.key
