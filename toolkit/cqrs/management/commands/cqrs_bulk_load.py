"""``manage.py cqrs_bulk_load``: load a ``cqrs_bulk_dump`` file into a replica model.

django-cqrs 3.1.0's arguments, messages and exit codes. Each line is applied as a SYNC through
the consumer, so the replica's revision store learns the loaded revisions (a message older
than the dump arriving later is then ignored, not applied over it).
"""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction

from toolkit.cqrs.management import at_least_one
from toolkit.cqrs.management.dump import loads


class Command(BaseCommand):
    help = "Bulk load of a CQRS model to a replica service."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--input",
            "-i",
            help="Input file for loading (- for reading from stdin)",
            type=str,
            required=True,
        )
        # type=bool as in django-cqrs: any non-empty value clears.
        parser.add_argument(
            "--clear", "-c", help="Delete existing models", type=bool, required=False, default=False
        )
        parser.add_argument("--batch", "-b", help="Batch size", type=int, default=10000)

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.registries import ReplicaRegistry

        at_least_one("--batch", options["batch"])  # 0 read no line, for ever, after --clear
        f_name = options["input"]
        if f_name != "-" and not os.path.exists(f_name):
            raise CommandError(f"File {f_name} doesn't exist!")
        stream = sys.stdin if f_name == "-" else open(f_name)  # noqa: SIM115
        try:
            cqrs_id = (stream.readline() or "").strip()
            if not cqrs_id:
                raise CommandError(f"File {f_name} is empty!")
            model = ReplicaRegistry.get_model_by_cqrs_id(cqrs_id)
            if not model:
                raise CommandError(f"Wrong CQRS ID: {cqrs_id}!")
            if options["clear"]:
                try:
                    with transaction.atomic():
                        model._default_manager.all().delete()
                except DatabaseError as exc:
                    raise CommandError("Delete operation fails!") from exc
            loaded = self._process(stream, model, options["batch"])
        finally:
            if stream is not sys.stdin:
                stream.close()
        print(f"Done!\n{loaded} instance(s) loaded.", file=sys.stderr)

    @classmethod
    def _process(cls, stream: IO[str], model: type[Any], batch_size: int) -> int:
        success, line_number, done = 0, 2, False
        while not done:
            with transaction.atomic():
                for _ in range(batch_size):
                    line = stream.readline()
                    if not line:
                        done = True
                        break
                    success += int(cls._process_line(line_number, line, model))
                    line_number += 1
        return success

    @staticmethod
    def _process_line(line_number: int, line: str, model: type[Any]) -> bool:
        from toolkit.cqrs.constants import SignalType
        from toolkit.cqrs.consumer import ReplicaRefused, apply_payload
        from toolkit.cqrs.dataclasses import TransportPayload

        try:
            master_data = loads(line.strip())
        except ValueError:
            print(f"Dump file can't be parsed: line {line_number}!", file=sys.stderr)
            return False
        try:
            pk = master_data.get("id", master_data.get(model._meta.pk.name))
            payload = TransportPayload(SignalType.SYNC, model.CQRS_ID, master_data, pk)
            with transaction.atomic():
                apply_payload(model, payload)
        except ReplicaRefused:
            print(f"Instance can't be saved: line {line_number}!", file=sys.stderr)
            return False
        except Exception as exc:  # reported per line, as django-cqrs does; the load goes on
            print(f"Unexpected error: line {line_number}! {exc}", file=sys.stderr)
            return False
        return True
