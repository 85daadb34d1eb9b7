"""What the control panel shows per CQRS model: last revision, pending, dead letters, gaps.

Every number comes from an indexed query (``cqrs_updated`` on masters, ``(cqrs_id, ...)``
indexes on the CQRS tables), so the page stays fast on large tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True)
class CqrsModelStatus:
    """One master or replica model as the panel lists it."""

    role: Literal["master", "replica"]
    cqrs_id: str
    model_label: str
    verbose_name: str
    #: Revision of the most recently changed (master) or applied (replica) instance.
    last_revision: int | None
    last_instance_pk: str | None
    last_change: datetime | None
    #: Master: outbox rows not published yet. Replica: always 0.
    pending: int
    #: Replica: dead letters not replayed yet. Master: always 0.
    dead_letters: int
    #: Replica: revision gaps reported. Master: always 0.
    gaps: int


def _status(
    role: Literal["master", "replica"],
    cqrs_id: str,
    model: type[Any],
    last: tuple[Any, int, datetime] | None,
    *,
    pending: int = 0,
    dead_letters: int = 0,
    gaps: int = 0,
) -> CqrsModelStatus:
    """Build a status from the ``(pk, revision, changed)`` row of the last change, if any."""
    return CqrsModelStatus(
        role=role,
        cqrs_id=cqrs_id,
        model_label=model._meta.label,
        verbose_name=str(model._meta.verbose_name),
        last_revision=last[1] if last else None,
        last_instance_pk=str(last[0]) if last else None,
        last_change=last[2] if last else None,
        pending=pending,
        dead_letters=dead_letters,
        gaps=gaps,
    )


def _master_status(cqrs_id: str, model: type[Any]) -> CqrsModelStatus:
    from toolkit.cqrs.models import CqrsOutbox

    last = (
        model._default_manager.order_by("-cqrs_updated", "-pk")
        .values_list("pk", "cqrs_revision", "cqrs_updated")
        .first()
    )
    return _status(
        "master", cqrs_id, model, last, pending=CqrsOutbox.objects.filter(cqrs_id=cqrs_id).count()
    )


def _replica_status(cqrs_id: str, model: type[Any]) -> CqrsModelStatus:
    from toolkit.cqrs.consumer import reported_gaps
    from toolkit.cqrs.models import CqrsDeadLetter, CqrsReplicaRevision

    last = (
        CqrsReplicaRevision.objects.filter(cqrs_id=cqrs_id)
        .order_by("-updated_at")
        .values_list("instance_pk", "revision", "updated_at")
        .first()
    )
    return _status(
        "replica",
        cqrs_id,
        model,
        last,
        dead_letters=CqrsDeadLetter.objects.filter(
            cqrs_id=cqrs_id, replayed_at__isnull=True
        ).count(),
        gaps=reported_gaps(cqrs_id=cqrs_id).count(),
    )


def cqrs_model_statuses() -> list[CqrsModelStatus]:
    """Every registered master and replica model, masters first, each sorted by CQRS_ID."""
    from toolkit.cqrs.registries import MasterRegistry, ReplicaRegistry

    masters = [_master_status(i, m) for i, m in sorted(MasterRegistry.models.items())]
    replicas = [_replica_status(i, m) for i, m in sorted(ReplicaRegistry.models.items())]
    return masters + replicas


def unrouted_dead_letters() -> int:
    """Dead letters not replayed whose CQRS_ID has no replica model (unknown or malformed)."""
    from toolkit.cqrs.models import CqrsDeadLetter
    from toolkit.cqrs.registries import ReplicaRegistry

    return (
        CqrsDeadLetter.objects.filter(replayed_at__isnull=True)
        .exclude(cqrs_id__in=ReplicaRegistry.cqrs_ids())
        .count()
    )
