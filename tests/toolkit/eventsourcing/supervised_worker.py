"""``run_projections --supervise`` over a projection whose handler hangs, for the tests.

``python -m tests.toolkit.eventsourcing.supervised_worker [ARGS...]`` registers ``hangs`` (its
handler never returns on an event whose payload has ``"hang"``) and runs the command with a
stall limit of 2 s, a 1 s lease and one restart; ``ARGS`` are passed on (the supervisor adds
``--worker-id`` when it starts the same command line as its child).
"""

from __future__ import annotations

import os
import sys
import time


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings

    from toolkit.eventsourcing.projections import Projection
    from toolkit.eventsourcing.store import StoredEvent

    class Hangs(Projection):
        name = "hangs"

        def handle(self, event: StoredEvent) -> None:
            if event.payload.get("hang"):
                time.sleep(3600)

        def reset(self) -> None:
            pass

    toolkit = {
        "eventsourcing": {
            "projection_stalled_after": 2.0,
            "projection_lease_seconds": 1.0,
            "projection_max_restarts": 1,
        }
    }
    with override_settings(TOOLKIT=toolkit):
        call_command("run_projections", "hangs", "--supervise", "--interval", "0.05", *argv)


if __name__ == "__main__":
    main(sys.argv[1:])
