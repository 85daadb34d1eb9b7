"""``manage.py run_projections``: keep persistent projections caught up with the event feed.

Stops cleanly on SIGTERM or SIGINT: the batch in progress commits (or rolls back) and the
command exits; it never stops half way through a transaction.
"""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.eventsourcing.projections import catch_up, run_once
from toolkit.registry import RegistryError, projections


class Command(BaseCommand):
    help = "Run persistent projections until stopped (SIGTERM/SIGINT stop gracefully)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="Projections to run (default: all).")
        parser.add_argument(
            "--once", action="store_true", help="Catch up once and exit instead of polling."
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between polls when idle."
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
        self.stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stopping = True
            self.stdout.write(f"Received {signal.Signals(signum).name}; stopping after this batch.")

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if options["once"]:
                for name in names:
                    self._run(name, once=True)
                return
            while not self.stopping:
                busy = False
                for name in names:
                    if self.stopping:
                        break
                    busy = self._run(name, once=False) or busy
                if not busy:
                    self._sleep(options["interval"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("Stopped.")

    def _run(self, name: str, *, once: bool) -> bool:
        try:
            read = catch_up(name) if once else run_once(name)
        except Exception as exc:
            self.stderr.write(f"{name}: {type(exc).__name__}: {exc}")
            return False
        if read:
            self.stdout.write(f"{name}: {read} event(s)")
        return bool(read)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, seconds))
