"""``manage.py run_projections``: keep persistent projections caught up with the event feed.

Start it any number of times, on any number of machines sharing the database: each process
runs one :class:`~toolkit.eventsourcing.projections.ProjectionRunner` per projection, and the
runners share every projection's segments through leases (see
:mod:`toolkit.eventsourcing.projections.runner`). Stops cleanly on SIGTERM or SIGINT: the
batch in progress commits (or rolls back), the process gives its segments back and exits; it
never stops half way through a transaction.
"""

from __future__ import annotations

import os
import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.eventsourcing.projections import ProjectionError, ProjectionRunner
from toolkit.eventsourcing.projections.supervisor import CHILD_MARKER
from toolkit.management.arguments import non_negative_int, seconds
from toolkit.registry import RegistryError, projections


class Command(BaseCommand):
    help = "Run persistent projections until stopped (SIGTERM/SIGINT stop gracefully)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="Projections to run (default: all).")
        parser.add_argument(
            "--once", action="store_true", help="Catch up once and exit instead of polling."
        )
        parser.add_argument(
            "--interval", type=seconds, default=1.0, help="Seconds between polls when idle."
        )
        parser.add_argument(
            "--worker-id", default="", help="This worker's name in the leases (default: host:pid)."
        )
        parser.add_argument(
            "--supervise",
            action="store_true",
            help="Run the worker in a child process and restart it when it stalls.",
        )
        parser.add_argument(
            "--max-restarts",
            type=non_negative_int,
            default=None,
            help="With --supervise: restarts before giving up (projection_max_restarts).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names: list[str] = options["names"] or list(projections)
        for name in names:
            try:
                projections.get(name)
            except RegistryError as exc:
                raise CommandError(str(exc)) from exc
        if not names:
            self.stdout.write("No projections are registered.")
            return
        if options["supervise"] and not os.environ.get(CHILD_MARKER):
            from toolkit.eventsourcing.projections.supervisor import Supervisor

            supervisor = Supervisor(names, max_restarts=options["max_restarts"], out=self.stdout)
            if not supervisor.run():
                raise CommandError(supervisor.gave_up)
            return
        self.stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stopping = True
            self.stdout.write(f"Received {signal.Signals(signum).name}; stopping after this batch.")

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        worker = options["worker_id"] or None
        runners = [
            ProjectionRunner(name, worker_id=f"{worker}:{name}" if worker else None)
            for name in names
        ]
        try:
            for runner in runners:
                try:
                    runner.start()
                except ProjectionError as exc:
                    raise CommandError(str(exc)) from exc
                self.stdout.write(f"{runner.name}: worker {runner.worker} holds {runner.held}")
            while not self.stopping:
                busy = False
                for runner in runners:
                    if self.stopping:
                        break
                    busy = self._step(runner) or busy
                if options["once"] and not busy:
                    break
                if not busy:
                    self._sleep(options["interval"])
        finally:
            for runner in runners:
                runner.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Stopped.")

    def _step(self, runner: ProjectionRunner) -> bool:
        before = list(runner.held)
        try:
            read = runner.step()
        except Exception as exc:
            # A database hiccup: report it and go on; the batch rolled back.
            self.stderr.write(f"{runner.name}: {type(exc).__name__}: {exc}")
            return False
        if runner.held != before:
            self.stdout.write(f"{runner.name}: worker {runner.worker} holds {runner.held}")
        if read:
            self.stdout.write(f"{runner.name}: {read} event(s)")
        return bool(read)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, seconds))
