"""``manage.py cqrs_sync``: resend chosen master instances, or publish the pending outbox.

Arguments, messages and exit codes are django-cqrs 3.1.0's: ``--cqrs-id/-cid`` and
``--filter/-f`` (Django lookups as JSON; without a filter nothing is sent, ``-f '{}'`` sends
every instance), ``--queue/-q``, ``--batch/-b``, ``--progress/-p``; an instance whose sync
fails is reported and the others go on. ``--pending`` is the toolkit's own: it publishes the
outbox rows the transport refused earlier.
"""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.cqrs.exceptions import CqrsError
from toolkit.cqrs.management import at_least_one

#: Smaller than django-cqrs' 10000: each batch is one transaction holding its outbox rows.
DEFAULT_BATCH = 500


class Command(BaseCommand):
    help = "Filter synchronization of certain CQRS model rows over transport to replicas."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cqrs-id", "-cid", help="CQRS_ID of the master model", type=str)
        parser.add_argument(
            "--filter",
            "-f",
            dest="filter",
            type=str,
            default=None,
            help="Filter kwargs, as JSON, e.g. '{\"id__in\": [1, 2]}' ('{}': every instance)",
        )
        parser.add_argument(
            "--queue", "-q", type=str, default=None, help="Name of the specific replica queue"
        )
        parser.add_argument("--batch", "-b", type=int, default=DEFAULT_BATCH, help="Batch size")
        parser.add_argument("--progress", "-p", action="store_true", help="Display progress")
        parser.add_argument(
            "--pending",
            action="store_true",
            help="Publish the outbox rows the transport refused earlier (toolkit only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.producer import publish_pending

        if options["pending"]:
            if options["filter"]:
                raise CommandError("--pending cannot be combined with --filter")
            count = publish_pending(cqrs_id=options["cqrs_id"])
            self.stdout.write(f"Published {count} pending message(s).")
            return
        if not options["cqrs_id"]:
            raise CommandError("--cqrs-id is required (or use --pending)")
        at_least_one("--batch", options["batch"])
        self._sync(options)

    def _sync(self, options: dict[str, Any]) -> None:
        from toolkit.cqrs.registries import MasterRegistry
        from toolkit.cqrs.sync import master_queryset, sync_queryset

        cqrs_id = options["cqrs_id"]
        model = MasterRegistry.get_model_by_cqrs_id(cqrs_id)
        if model is None:
            raise CommandError(f"Wrong CQRS ID: {cqrs_id}!")
        if not options["filter"]:
            self.stdout.write("No objects found for filter!")
            return
        try:
            filters = json.loads(options["filter"])
        except ValueError as exc:
            raise CommandError("Bad filter kwargs!") from exc
        if not isinstance(filters, dict):
            raise CommandError("Bad filter kwargs!")
        try:
            queryset = master_queryset(cqrs_id, filters)
        except CqrsError as exc:
            detail = exc.__cause__ if exc.__cause__ is not None else exc
            raise CommandError(f"Bad filter kwargs! {detail}") from exc
        total = queryset.count()
        if total == 0:
            self.stdout.write("No objects found for filter!")
            return
        batch_size = options["batch"]
        if options["progress"]:
            self.stdout.write(f"Processing {total} records with batch size {batch_size}")
        batch_started, done_before = time.time(), 0

        def progress(done: int, _total: int) -> None:
            nonlocal batch_started, done_before
            if not options["progress"]:
                return
            elapsed = time.time() - batch_started
            rate = (done - done_before) / elapsed if elapsed else 0
            eta = datetime.timedelta(seconds=int((total - done) / rate)) if rate else "n/a"
            self.stdout.write(
                f"\r{done} of {total} processed - {int(100 * done / total)}% with "
                f"rate {rate:.1f} rps, to go {eta} ...{' ':20}",
                ending="",
            )
            self.stdout.flush()
            batch_started, done_before = time.time(), done

        def failed(instance: Any, exc: Exception) -> None:
            self.stdout.write(
                f"\nSync record failed for pk={instance.pk}: {type(exc).__name__}: {exc}"
            )

        result = sync_queryset(
            queryset,
            queue=options["queue"],
            batch_size=batch_size,
            progress=progress,
            on_error=failed,
        )
        # As django-cqrs counts: every instance whose cqrs_sync() did not raise is "synced".
        synced = result.processed - result.failed
        self.stdout.write(
            f"Done!\n{synced} instance(s) synced.\n{result.processed} instance(s) processed."
        )
