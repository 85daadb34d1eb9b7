"""``manage.py cqrs_deleted_sync_replica``: read ``cqrs_deleted_diff_master``'s stream on stdin
and delete the listed replica rows, as django-cqrs 3.1.0 does (a database error is written to
stderr and the next line is tried)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from toolkit.cqrs.management.diff import decode_line, model_from_header, pk_map, stdin_lines


class Command(BaseCommand):
    help = "Diff for deleted objects synchronizer from CQRS master stream."

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.registries import ReplicaRegistry

        first_line, lines = stdin_lines()
        model = model_from_header(ReplicaRegistry, first_line)
        for number, line in lines:
            pks = decode_line(line, number)
            if not isinstance(pks, list):
                raise CommandError(f"Line {number} of the input is not a list of pks")
            try:
                with transaction.atomic(using=model._default_manager.db):
                    model._default_manager.filter(pk__in=pk_map(model, pks, number)).delete()
            except DatabaseError as exc:
                self.stderr.write(str(exc))
