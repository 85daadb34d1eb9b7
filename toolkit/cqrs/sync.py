"""Resend chosen master instances (``cqrs_sync``, the admin action, the panel's resync)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldError, ValidationError
from django.db import connections, transaction
from django.db.models import QuerySet

from toolkit.cqrs.exceptions import CqrsError


@dataclass(frozen=True)
class SyncResult:
    """How many instances matched (``total``), were queued (``synced``; an instance that
    ``cqrs_sync()`` declines is not), were gone through (``processed``) and failed (``failed``,
    only with ``on_error``)."""

    total: int
    synced: int
    failed: int = 0
    processed: int = 0


def parse_filter(text: str | None) -> dict[str, Any]:
    """Parse ``--filter '{"id__in": [1, 2]}'``; raise ``CqrsError`` for anything but an object."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CqrsError(f"filter {text!r} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise CqrsError(f"filter {text!r} must be a JSON object of field lookups")
    return value


def master_queryset(cqrs_id: str, filters: dict[str, Any] | None = None) -> QuerySet[Any]:
    """The master model's instances for ``cqrs_id`` matching ``filters`` (validated)."""
    from toolkit.cqrs.registries import MasterRegistry

    model = MasterRegistry.get(cqrs_id)
    queryset = model._default_manager.all()
    if filters:
        try:
            queryset = queryset.filter(**filters)
            str(queryset.query)  # resolve lookups now, not mid-sync
        except (FieldError, ValidationError, ValueError, TypeError) as exc:
            raise CqrsError(f"bad filter {filters!r} for {model._meta.label}: {exc}") from exc
    result: QuerySet[Any] = queryset.order_by("pk")
    return result


def sync_queryset(
    queryset: QuerySet[Any],
    *,
    queue: str | None = None,
    batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
    on_error: Callable[[Any, Exception], None] | None = None,
) -> SyncResult:
    """Send a SYNC message for each instance (one transaction per batch, sent on commit).

    Without ``on_error`` an instance whose ``cqrs_sync()`` raises aborts the sync (its batch
    rolls back). With it, as django-cqrs' ``cqrs_sync`` command does, each instance runs in a
    savepoint: a failure rolls back that instance only, is handed to ``on_error(instance,
    exc)`` and counted in ``failed``, and the sync goes on.

    Between batches a broken or expired database connection is closed, so a long sync
    reconnects instead of failing; the Kombu producer reconnects by itself.
    """
    model = queryset.model
    queryset = model.relate_cqrs_serialization(queryset.order_by("pk"))
    total = queryset.count()
    synced = 0
    failed = 0
    done = 0
    last_pk: Any = None
    while True:
        batch_qs = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
        batch = list(batch_qs[:batch_size])
        if not batch:
            break
        with transaction.atomic(using=queryset.db):
            for instance in batch:
                if on_error is None:
                    synced += bool(instance.cqrs_sync(using=queryset.db, queue=queue))
                    continue
                try:
                    with transaction.atomic(using=queryset.db):
                        synced += bool(instance.cqrs_sync(using=queryset.db, queue=queue))
                except Exception as exc:  # reported per instance, as django-cqrs does
                    failed += 1
                    on_error(instance, exc)
        done += len(batch)
        last_pk = batch[-1].pk
        # A long sync outlives database connections (server restarts, CONN_MAX_AGE): drop a
        # broken or expired one between batches so the next batch reconnects, as Django does
        # between requests. Inside a surrounding transaction the connection is left alone.
        connection = connections[queryset.db]
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
        if progress is not None:
            progress(done, total)
    return SyncResult(total=total, synced=synced, failed=failed, processed=done)
