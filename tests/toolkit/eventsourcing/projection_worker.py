"""A real ``manage.py run_projections`` process for the scale tests.

``python -m tests.toolkit.eventsourcing.projection_worker WORKER_ID`` sets Django up with
``tests.settings`` (the database comes from ``DATABASE_URL``), registers :class:`Tally` in this
process only (so the rest of the suite never sees it) and runs the command until SIGTERM.
``TALLY_LEASE`` sets the lease in seconds.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from django.db.models import F


def _projection_class() -> type:
    from tests.testapp.models import ProjectedApplication, ProjectedTally
    from toolkit.eventsourcing.projections import Projection
    from toolkit.eventsourcing.store import StoredEvent

    class Tally(Projection):
        """Counts every ``Tick`` per stream and sums its ``n``; logs each application."""

        name = "tally"
        event_types = ("Tick",)
        segments = 8
        batch_size = 200

        def handle(self, event: StoredEvent) -> None:
            ProjectedApplication.objects.create(
                position=event.position, aggregate_id=event.aggregate_id
            )
            updated = ProjectedTally.objects.filter(aggregate_id=event.aggregate_id).update(
                count=F("count") + 1, total=F("total") + event.payload["n"]
            )
            if not updated:
                ProjectedTally.objects.create(
                    aggregate_id=event.aggregate_id, count=1, total=event.payload["n"]
                )

        def reset(self) -> None:
            ProjectedApplication.objects.all().delete()
            ProjectedTally.objects.all().delete()

    return Tally


def _store(db_name: str) -> Any:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.db import connections

    from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
    from toolkit.eventsourcing.event_store import EventStore

    connections["default"].settings_dict["NAME"] = db_name
    return EventStore(DjangoEventStoreBackend())


def writer(db_name: str, worker: int, streams: int, stop: Any, counts: Any) -> None:
    """Append ``Tick`` events to the ``t-*`` streams until ``stop`` is set (a spawned
    process); put the number appended on ``counts``."""
    store = _store(db_name)
    appended = 0
    while not stop.is_set():
        store.append(
            f"t-{(worker * 7919 + appended) % streams}", "Tally", "Tick", {"n": appended % 5 + 1}
        )
        appended += 1
    counts.put(appended)


def late_writer(db_name: str, ready: Any, hold: float) -> None:
    """Append one event in a transaction held open ``hold`` seconds after the append."""
    from django.db import transaction

    store = _store(db_name)
    with transaction.atomic():
        store.append("late", "Tally", "Tick", {"n": 1000})
        ready.set()
        time.sleep(hold)  # others' appends wait behind this one's position


def main(worker_id: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings

    _projection_class()
    lease = float(os.environ.get("TALLY_LEASE", "3"))
    toolkit = {"eventsourcing": {"projection_lease_seconds": lease}}
    with override_settings(TOOLKIT=toolkit):
        call_command("run_projections", "tally", "--interval", "0.05", "--worker-id", worker_id)


if __name__ == "__main__":
    main(sys.argv[1])
