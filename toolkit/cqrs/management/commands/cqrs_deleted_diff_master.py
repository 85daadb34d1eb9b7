"""``manage.py cqrs_deleted_diff_master``: read ``cqrs_deleted_diff_replica``'s stream on stdin,
write the pks the master no longer has, as django-cqrs 3.1.0 does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from toolkit.cqrs.management.diff import decode_line, encode, model_from_header, pk_map, stdin_lines


class Command(BaseCommand):
    help = "Diff of deleted CQRS models pks from master diff stream."

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.registries import MasterRegistry

        first_line, lines = stdin_lines()
        model = model_from_header(MasterRegistry, first_line)
        self.stdout.write(first_line.strip())
        for number, line in lines:
            pks = decode_line(line, number)
            if not isinstance(pks, list):
                raise CommandError(f"Line {number} of the input is not a list of pks")
            read = pk_map(model, pks, number)
            existing = set(model._default_manager.filter(pk__in=read).values_list("pk", flat=True))
            gone = [as_read for pk, as_read in read.items() if pk not in existing]
            if gone:
                self.stdout.write(encode(gone))
                self.stderr.write(f"PK to delete: {gone}")
