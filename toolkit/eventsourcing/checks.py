"""System checks of event sourcing (ids ``toolkit.E101`` and up), run by ``manage.py check``.

- ``toolkit.E101``: unknown key in ``TOOLKIT["eventsourcing"]``
- ``toolkit.E102``: bad value in ``TOOLKIT["eventsourcing"]``
- ``toolkit.E110``: a schema file that cannot be used (bad name, bad JSON, invalid schema)
- ``toolkit.E111``: a configured schema directory that does not exist
- ``toolkit.E112``: with ``require_schemas``, an aggregate event type without a schema file
"""

from __future__ import annotations

from django.core.checks import CheckMessage, Error

from toolkit.eventsourcing import config
from toolkit.eventsourcing.schemas import schema_key
from toolkit.registry import aggregates


def check_eventsourcing() -> list[CheckMessage]:
    """Validate the settings section and every schema file."""
    from django.conf import settings

    raw = (getattr(settings, "TOOLKIT", None) or {}).get("eventsourcing")
    messages: list[CheckMessage] = [
        Error(msg, id=check_id, obj="settings.TOOLKIT")
        for check_id, msg in config.settings_problems(raw)
    ]
    if messages:
        return messages
    registry = config.schema_registry()
    for problem in registry.problems:
        if problem.message == "schema directory does not exist":
            messages.append(
                Error(
                    f"Event schema directory {str(problem.path)!r} does not exist.",
                    hint="Fix TOOLKIT['eventsourcing']['schema_dirs'].",
                    id="toolkit.E111",
                )
            )
        else:
            messages.append(
                Error(f"Event schema {str(problem.path)!r}: {problem.message}.", id="toolkit.E110")
            )
    if registry.require_schemas:
        for aggregate_type, cls in aggregates.items():
            for event_type in sorted(cls.event_classes):
                key = schema_key(aggregate_type, event_type)
                if key not in registry.schemas:
                    aggregate, event = key.split("/")
                    messages.append(
                        Error(
                            f"Event {event_type!r} of aggregate {aggregate_type!r} has no schema.",
                            hint=f"Add {aggregate}/v1_{aggregate}_{event}.json to a schema "
                            "directory.",
                            id="toolkit.E112",
                        )
                    )
    return messages
