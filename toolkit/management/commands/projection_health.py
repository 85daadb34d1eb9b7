"""``manage.py projection_health``: exit 1 when a projection is unhealthy (2 with --strict
when one is only degraded).

Use it as a liveness/readiness probe. Levels come from ``projection_degraded_lag``,
``projection_max_lag`` (unhealthy), ``projection_stalled_after`` and stopped segments; the
lag counts only the projection's own event types, per segment.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from toolkit.eventsourcing.projections import projection_statuses, unhealthy_projections


class Command(BaseCommand):
    help = "Report projection health, position, lag and errors; exit 1 if any is unhealthy."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--strict", action="store_true", help="Also exit non-zero (2) when one is degraded."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        statuses = projection_statuses()
        for status in statuses:
            state = "ok" if status.healthy else status.health.upper()
            self.stdout.write(
                f"{status.name}: {state} status={status.status} position={status.position} "
                f"head={status.head} lag={status.lag} dead_letters={status.dead_letters}"
            )
        problems = unhealthy_projections(statuses=statuses)
        for problem in problems:
            self.stderr.write(problem)
        if any(s.health == "unhealthy" for s in statuses):
            raise SystemExit(1)
        if options["strict"] and problems:
            raise SystemExit(2)
