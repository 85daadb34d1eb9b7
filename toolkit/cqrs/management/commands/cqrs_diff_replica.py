"""``manage.py cqrs_diff_replica``: read ``cqrs_diff_master``'s stream on stdin, write the pks
whose replica revision differs (or that the replica lacks), as django-cqrs 3.1.0 does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from toolkit.cqrs.management.diff import decode_line, encode, model_from_header, pk_map, stdin_lines


class Command(BaseCommand):
    help = "Diff of CQRS replica models from master diff stream."

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.conf import cqrs_settings
        from toolkit.cqrs.registries import ReplicaRegistry

        first_line, lines = stdin_lines()
        model = model_from_header(ReplicaRegistry, first_line)
        self.stdout.write(f"{first_line.strip()},{cqrs_settings().queue}")
        for number, line in lines:
            package = decode_line(line, number)
            try:
                master = dict(package)
            except (TypeError, ValueError) as exc:
                raise CommandError(
                    f"Line {number} of the input is not a list of [pk, cqrs_revision]: {exc}"
                ) from exc
            read = pk_map(model, master, number)
            replica = dict(
                model._default_manager.filter(pk__in=read)
                .order_by()
                .values_list("pk", "cqrs_revision")
            )
            diff = [
                as_read for pk, as_read in read.items() if replica.get(pk, -1) != master[as_read]
            ]
            if diff:
                self.stdout.write(encode(diff))
                self.stderr.write(f"PK to resync: {set(diff)}")
