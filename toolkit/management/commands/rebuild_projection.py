"""``manage.py rebuild_projection NAME``: rebuild one projection from zero, with a progress bar.

The rebuild runs in one transaction, so readers keep the old read model until it commits.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.eventsourcing.projections import rebuild_projection
from toolkit.registry import RegistryError, projections


class Command(BaseCommand):
    help = "Rebuild a persistent projection from the first event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Projection name.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        try:
            projections.get(name)
        except RegistryError as exc:
            raise CommandError(str(exc)) from exc
        bar: Any = None
        if not options["no_progress"]:
            try:
                from tqdm import tqdm
            except ImportError:  # pragma: no cover - the demo extra is missing
                tqdm = None
            if tqdm is not None:
                # The bar redraws with "\r", so it writes to the raw stream, not the wrapper
                # that appends a newline to every write.
                stream = getattr(self.stderr, "_out", sys.stderr)
                bar = tqdm(total=0, unit="event", desc=name, file=stream)

        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar.total = total
                bar.n = done
                bar.refresh()

        try:
            handled = rebuild_projection(name, progress=progress)
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(f"Rebuilt {name}: {handled} event(s) replayed.")
