"""``manage.py cqrs_bulk_dump``: django-cqrs' dump of a master model, line by line.

The file's first line is the CQRS_ID, then one ``to_cqrs_dict()`` JSON object per line; the
arguments, messages and exit codes are django-cqrs 3.1.0's.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.cqrs.management import at_least_one
from toolkit.cqrs.management.dump import batch_qs, dumps


class Command(BaseCommand):
    help = "Bulk dump of a CQRS model from master service."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cqrs-id", "-c", help="CQRS_ID of the master model", type=str, required=True
        )
        parser.add_argument(
            "--output",
            "-o",
            help="Output file for dumping (- for writing to stdout)",
            type=str,
            default=None,
        )
        parser.add_argument("--batch", "-b", help="Batch size", type=int, default=10000)
        parser.add_argument("--progress", "-p", help="Display progress", action="store_true")
        parser.add_argument("--force", "-f", help="Override output file", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.registries import MasterRegistry

        cqrs_id = options["cqrs_id"]
        model = MasterRegistry.get_model_by_cqrs_id(cqrs_id)
        if not model:
            raise CommandError(f"Wrong CQRS ID: {cqrs_id}!")
        at_least_one("--batch", options["batch"])  # before the output file is opened
        out_fname = options["output"] or f"{cqrs_id}.dump"
        if out_fname != "-" and os.path.exists(out_fname) and not options["force"]:
            raise CommandError(f"File {out_fname} exists!")
        batch_size = options["batch"]
        counter = success_counter = 0
        stream = sys.stdout if out_fname == "-" else open(out_fname, "w")  # noqa: SIM115
        try:
            stream.write(model.CQRS_ID)
            db_count = model._default_manager.count()
            if options["progress"]:
                print(
                    f"Processing {db_count} records with batch size {batch_size}",
                    file=sys.stderr,
                )
            queryset = model.relate_cqrs_serialization(model._default_manager.order_by("pk"))
            for batch in batch_qs(queryset, batch_size=batch_size):
                started, before = time.time(), counter
                for instance in batch:
                    counter += 1
                    try:
                        stream.write("\n" + dumps(instance.to_cqrs_dict()))
                        success_counter += 1
                    except Exception as exc:  # reported per record, as django-cqrs does
                        print(
                            f"\nDump record failed for pk={instance.pk}: "
                            f"{type(exc).__name__}: {exc}",
                            file=sys.stderr,
                        )
                if options["progress"]:
                    self._progress(counter, before, db_count, time.time() - started)
        finally:
            if stream is not sys.stdout:
                stream.close()
        print(
            f"Done!\n{success_counter} instance(s) saved.\n{counter} instance(s) processed.",
            file=sys.stderr,
        )

    @staticmethod
    def _progress(counter: int, before: int, total: int, elapsed: float) -> None:
        rate = (counter - before) / elapsed if elapsed else 0
        eta = datetime.timedelta(seconds=int((total - counter) / rate)) if rate else "n/a"
        sys.stderr.write(
            f"\r{counter} of {total} processed - {int(100 * counter / total)}% with "
            f"rate {rate:.1f} rps, to go {eta} ...{' ':20}"
        )
        sys.stderr.flush()
