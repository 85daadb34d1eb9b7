"""Persistent catch-up projections: read models fed from the global feed, exactly once, by
any number of workers.

A projection reads ``read_all`` from its checkpoints, hands each event it subscribes to to
:meth:`Projection.handle` (which writes the read model with the ORM), and saves the new
checkpoints **in the same database transaction** as the read-model writes: a crash keeps both
or neither, so no event is applied twice or lost.

.. code-block:: python

    class RevenueByDay(Projection):
        event_types = ("OrderPaid",)
        segments = 4

        def handle(self, event):
            day = event.timestamp.date()
            row, _ = DailyRevenue.objects.get_or_create(day=day)
            DailyRevenue.objects.filter(pk=row.pk).update(total=F("total") + event.payload["total"])

        def reset(self):
            DailyRevenue.objects.all().delete()

Run them with ``manage.py run_projections`` as many times, on as many machines, as the
projection has segments (stops cleanly on SIGTERM/SIGINT); see :mod:`.runner` for leases,
gaps and poison events, :mod:`.operations` for rebuild, rewind, pause and dead letters, and
:mod:`.health` for status and health. The modules:

- :mod:`.base`: the :class:`Projection` class, segmenting and health rules (pure Python)
- :mod:`.runner`: :class:`ProjectionRunner`, ``run_once``, ``catch_up`` (Django)
- :mod:`.operations`: rebuild, rewind, pause/resume, dead letters (Django)
- :mod:`.health`: ``projection_statuses``, ``unhealthy_projections`` (Django)
"""

from __future__ import annotations

from toolkit.eventsourcing.projections.base import (
    Health,
    OnPoison,
    Projection,
    ProjectionStatus,
    SegmentStatus,
    judge_health,
    retry_delay,
    segment_of,
)
from toolkit.eventsourcing.projections.health import (
    EXACT_LAG_RANGE,
    projection_status,
    projection_statuses,
    unhealthy_projections,
)
from toolkit.eventsourcing.projections.operations import (
    DeadLetterNotFound,
    RewindResult,
    dead_letters,
    drop_dead_letter,
    events_to_replay,
    pause_projection,
    rebuild_projection,
    resolve_position,
    resume_projection,
    retry_dead_letter,
    rewind_projection,
)
from toolkit.eventsourcing.projections.runner import (
    ProjectionError,
    ProjectionRunner,
    RunOptions,
    catch_up,
    ensure_rows,
    get_projection,
    run_once,
)

__all__ = [
    "EXACT_LAG_RANGE",
    "DeadLetterNotFound",
    "Health",
    "OnPoison",
    "Projection",
    "ProjectionError",
    "ProjectionRunner",
    "ProjectionStatus",
    "RewindResult",
    "RunOptions",
    "SegmentStatus",
    "catch_up",
    "dead_letters",
    "drop_dead_letter",
    "ensure_rows",
    "events_to_replay",
    "get_projection",
    "judge_health",
    "pause_projection",
    "projection_status",
    "projection_statuses",
    "rebuild_projection",
    "resolve_position",
    "resume_projection",
    "retry_dead_letter",
    "retry_delay",
    "rewind_projection",
    "run_once",
    "segment_of",
    "unhealthy_projections",
]
