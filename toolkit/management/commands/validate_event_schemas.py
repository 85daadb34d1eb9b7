"""``manage.py validate_event_schemas``: check every event schema file; exit 1 on problems.

With ``--events`` it also validates the stored events' payloads against the schema version
they were written with (after nothing is upcast), reporting each failure.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from toolkit.core.exceptions import SchemaValidationError
from toolkit.eventsourcing import config
from toolkit.eventsourcing.schemas import SchemaRegistry


class Command(BaseCommand):
    help = "Validate event schema files (and optionally stored events against them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--events", action="store_true", help="Also validate every stored event payload."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dirs = config.schema_dirs()
        registry = SchemaRegistry.from_dirs(dirs)
        count = sum(len(v) for v in registry.schemas.values())
        for problem in registry.problems:
            self.stderr.write(f"{problem.path}: {problem.message}")
        failures = len(registry.problems)
        if options["events"]:
            failures += self._validate_events(registry)
        self.stdout.write(
            f"{count} schema file(s) in {len(dirs)} director{'y' if len(dirs) == 1 else 'ies'}; "
            f"{failures} problem(s)."
        )
        if failures:
            raise SystemExit(1)

    def _validate_events(self, registry: SchemaRegistry) -> int:
        from toolkit.eventsourcing.config import default_backend

        backend = default_backend()
        failures = 0
        position = 0
        while batch := backend.read_all(after_position=position, limit=1000):
            for event in batch:
                if event.schema_version not in registry.versions(
                    event.aggregate_type, event.event_type
                ):
                    continue
                try:
                    registry.validate(
                        event.aggregate_type,
                        event.event_type,
                        event.payload,
                        version=event.schema_version,
                        envelope={
                            "entity_id": event.aggregate_id,
                            "entity_version": event.sequence,
                            "domain_event_id": str(event.event_id),
                        },
                    )
                except SchemaValidationError as exc:
                    failures += 1
                    self.stderr.write(f"{event.aggregate_id}#{event.sequence}: {exc}")
            position = batch[-1].position
        return failures
