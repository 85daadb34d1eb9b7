"""Models of the ``toolkit`` app, one module per concern.

- :mod:`toolkit.models.audit`: ``StateTransitionAudit`` and ``CommandAuditLog``
- :mod:`toolkit.models.events`: ``DomainEvent``, ``EventStream``, ``Snapshot`` and projection
  checkpoints
- :mod:`toolkit.models.plugins`: ``PluginState``, the persisted enable/disable of plugins

Object ids in audit rows are text so UUID and string primary keys work.
"""

from __future__ import annotations

from toolkit.models.audit import CommandAuditLog, StateTransitionAudit
from toolkit.models.events import DomainEvent, EventStream, ProjectionCheckpoint, Snapshot
from toolkit.models.plugins import PluginState

__all__ = [
    "CommandAuditLog",
    "DomainEvent",
    "EventStream",
    "PluginState",
    "ProjectionCheckpoint",
    "Snapshot",
    "StateTransitionAudit",
]
