"""``manage.py projection_health``: exit 1 when a projection failed or lags too far behind.

Use it as a liveness/readiness probe; the lag limit is ``projection_max_lag``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from toolkit.eventsourcing.projections import projection_statuses, unhealthy_projections


class Command(BaseCommand):
    help = "Report projection position, lag and errors; exit 1 if any is unhealthy."

    def handle(self, *args: Any, **options: Any) -> None:
        statuses = projection_statuses()
        for status in statuses:
            state = "ok" if status.healthy else "UNHEALTHY"
            self.stdout.write(
                f"{status.name}: {state} position={status.position} head={status.head} "
                f"lag={status.lag}"
            )
        problems = unhealthy_projections(statuses=statuses)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise SystemExit(1)
