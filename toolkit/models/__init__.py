"""Models of the ``toolkit`` app, one module per concern.

- :mod:`toolkit.models.audit`: ``StateTransitionAudit`` and ``CommandAuditLog``
- :mod:`toolkit.models.events`: ``DomainEvent``, ``EventStream``, ``Snapshot``
- :mod:`toolkit.models.projections`: projection checkpoints, segments with their leases,
  workers and dead letters
- :mod:`toolkit.models.handlers`: ``HandledEvent``, idempotency keys of Celery-run handlers
- :mod:`toolkit.models.outbox`: ``OutboxEvent``, the transactional outbox (Debezium's format)
- :mod:`toolkit.models.plugins`: ``PluginState``, the persisted enable/disable of plugins

Object ids in audit rows are text so UUID and string primary keys work.
"""

from __future__ import annotations

from toolkit.models.audit import CommandAuditLog, StateTransitionAudit
from toolkit.models.events import DomainEvent, EventStream, Snapshot
from toolkit.models.handlers import HandledEvent
from toolkit.models.outbox import OutboxEvent
from toolkit.models.plugins import PluginState
from toolkit.models.projections import (
    ProjectionCheckpoint,
    ProjectionDeadLetter,
    ProjectionSegment,
    ProjectionWorker,
)

__all__ = [
    "CommandAuditLog",
    "DomainEvent",
    "EventStream",
    "HandledEvent",
    "OutboxEvent",
    "PluginState",
    "ProjectionCheckpoint",
    "ProjectionDeadLetter",
    "ProjectionSegment",
    "ProjectionWorker",
    "Snapshot",
    "StateTransitionAudit",
]
