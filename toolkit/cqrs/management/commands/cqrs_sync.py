"""``manage.py cqrs_sync``: resend chosen master instances, or publish the pending outbox."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.cqrs.exceptions import CqrsError


class Command(BaseCommand):
    help = (
        "Send SYNC messages for the instances of a master model (optionally filtered), "
        "or publish the messages left pending in the outbox (--pending)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Option names and short forms as django-cqrs' cqrs_sync has them.
        parser.add_argument("--cqrs-id", "-cid", help="CQRS_ID of the master model to sync.")
        parser.add_argument(
            "--filter",
            "-f",
            dest="filter",
            help="Django lookups as a JSON object, e.g. '{\"id__in\": [1, 2]}'.",
        )
        parser.add_argument("--queue", "-q", default=None, help="Target queue name.")
        parser.add_argument("--batch", "-b", type=int, default=500, help="Batch size.")
        parser.add_argument("--progress", "-p", action="store_true", help="Print progress.")
        parser.add_argument(
            "--pending",
            action="store_true",
            help="Publish the outbox rows the transport refused earlier.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.producer import publish_pending
        from toolkit.cqrs.sync import master_queryset, parse_filter, sync_queryset

        if options["pending"]:
            if options["filter"]:
                raise CommandError("--pending cannot be combined with --filter")
            count = publish_pending(cqrs_id=options["cqrs_id"])
            self.stdout.write(f"Published {count} pending message(s).")
            return
        if not options["cqrs_id"]:
            raise CommandError("--cqrs-id is required (or use --pending)")
        if options["batch"] < 1:
            raise CommandError(f"--batch must be >= 1, not {options['batch']!r}")
        try:
            queryset = master_queryset(options["cqrs_id"], parse_filter(options["filter"]))
        except CqrsError as exc:
            raise CommandError(str(exc)) from exc

        def progress(done: int, total: int) -> None:
            if options["progress"]:
                self.stdout.write(f"{done}/{total}")

        result = sync_queryset(
            queryset, queue=options["queue"], batch_size=options["batch"], progress=progress
        )
        self.stdout.write(
            f"Synced {result.synced} of {result.total} {options['cqrs_id']!r} instance(s)."
        )
