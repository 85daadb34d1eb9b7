"""``manage.py cqrs_diff_sync``: read ``cqrs_diff_replica``'s stream on stdin and send a SYNC of
each listed master instance to the replica's queue, as django-cqrs 3.1.0 does."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.cqrs.constants import NO_QUEUE
from toolkit.cqrs.management.diff import decode_line, encode, model_from_header, stdin_lines


class Command(BaseCommand):
    help = "Diff synchronizer from CQRS replica stream."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", "-b", help="Batch size", type=int, default=10000)
        parser.add_argument("--progress", "-p", help="Display progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.registries import MasterRegistry

        first_line, lines = stdin_lines()
        first_line = first_line.strip()
        model = model_from_header(MasterRegistry, first_line)
        queue = first_line.split(",")[-1]
        for number, line in lines:
            pks = decode_line(line, number)
            if not isinstance(pks, list):
                raise CommandError(f"Line {number} of the input is not a list of pks")
            call_command(
                "cqrs_sync",
                cqrs_id=model.CQRS_ID,  # type: ignore[attr-defined]
                filter=encode({"pk__in": pks}),
                queue=None if queue == NO_QUEUE else queue,
                batch=options["batch"],
                progress=options["progress"],
                stdout=self.stdout,
                stderr=self.stderr,
            )
