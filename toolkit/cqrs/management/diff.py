"""What the diff commands share: django-cqrs 3.1.0's stream lines, headers and errors.

The streams are text, one JSON line per batch after a header line::

    cqrs_diff_master:          "<CQRS_ID>,<str(now)>" then [[pk, cqrs_revision], ...] lines
    cqrs_diff_replica:         "<master header>,<replica queue>" then [pk, ...] lines to resync
    cqrs_deleted_diff_replica: "<CQRS_ID>,<str(now)>" then [pk, ...] lines (replica pks)
    cqrs_deleted_diff_master:  the replica's header then [pk, ...] lines gone from the master
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.core.exceptions import FieldError, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Model, QuerySet
from django.utils.timezone import now

from toolkit.cqrs.management import at_least_one
from toolkit.cqrs.management.dump import batch_qs, dumps, loads


def model_for(registry: Any, cqrs_id: str) -> type[Model]:
    """The registered model of ``cqrs_id``, or django-cqrs' ``Wrong CQRS ID: x!`` error."""
    model: type[Model] | None = registry.get_model_by_cqrs_id(cqrs_id)
    if not model:
        raise CommandError(f"Wrong CQRS ID: {cqrs_id}!")
    return model


def model_from_header(registry: Any, first_line: str) -> type[Model]:
    """The model named by a stream's header line (its text up to the first comma)."""
    return model_for(registry, first_line.split(",")[0].strip())


def header(model: type[Model]) -> str:
    """A producing command's header line: ``CQRS_ID,<str() of the current datetime>``."""
    return f"{model.CQRS_ID},{now()}"  # type: ignore[attr-defined]


def filtered(queryset: QuerySet[Any], text: str | None) -> QuerySet[Any]:
    """Apply ``--filter`` (a JSON object of lookups) with django-cqrs' error messages."""
    if not text:
        return queryset
    try:
        kwargs = loads(text)
        if not isinstance(kwargs, dict):
            raise ValueError
    except ValueError:
        raise CommandError("Bad filter kwargs!") from None
    try:
        queryset = queryset.filter(**kwargs)
        str(queryset.query)  # resolve the lookups now
    except (FieldError, ValidationError, ValueError, TypeError) as exc:
        raise CommandError(f"Bad filter kwargs! {exc}") from exc
    return queryset


def batches(queryset: QuerySet[Any], batch_size: int) -> Iterator[QuerySet[Any]]:
    """Slices of ``batch_size`` rows in primary key order (stable on every database)."""
    at_least_one("--batch", batch_size)
    return batch_qs(queryset.order_by("pk"), batch_size=batch_size)


def json_pk(pk: Any) -> Any:
    """A primary key as the stream carries it: numbers and strings as they are, else ``str``."""
    return pk if isinstance(pk, int | str) else str(pk)


def encode(value: Any) -> str:
    """One stream line (ujson's compact text, as django-cqrs writes it)."""
    return dumps(value)


def decode_line(line: str, number: int) -> Any:
    """Parse stream line ``number``; a line that is not JSON is a clear error."""
    try:
        return loads(line)
    except ValueError as exc:
        raise CommandError(f"Line {number} of the input is not JSON: {exc}") from exc


def pk_map(model: type[Model], pks: Iterable[Any], number: int) -> dict[Any, Any]:
    """``{python pk: pk as read}`` for the pks of line ``number`` (UUIDs compare as UUIDs)."""
    field = model._meta.pk
    assert field is not None
    try:
        return {field.to_python(pk): pk for pk in pks}
    except (ValidationError, TypeError) as exc:
        raise CommandError(f"Line {number} of the input holds a bad pk: {exc}") from exc


def stdin_lines() -> tuple[str, Iterator[tuple[int, str]]]:
    """The header line of standard input, then ``(line number, line)`` of its non-blank rest."""
    stream: IO[str] = sys.stdin
    first = stream.readline()

    def rest() -> Iterator[tuple[int, str]]:
        for number, line in enumerate(stream, start=2):
            if line.strip():
                yield number, line.strip()

    return first, rest()


class ModelStreamCommand(BaseCommand):
    """A stream's first stage: ``--cqrs-id/-cid``, ``--filter/-f``, ``--batch/-b``; the header,
    then one :meth:`package` line per batch (django-cqrs' ``cqrs_diff_master`` and
    ``cqrs_deleted_diff_replica``)."""

    side = "master"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cqrs-id",
            "-cid",
            help=f"CQRS_ID of the {self.side} model",
            type=str,
            required=True,
        )
        parser.add_argument("--filter", "-f", help="Filter kwargs", type=str, default=None)
        parser.add_argument("--batch", "-b", help="Batch size", type=int, default=10000)

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.registries import MasterRegistry, ReplicaRegistry

        registry = MasterRegistry if self.side == "master" else ReplicaRegistry
        model = model_for(registry, options["cqrs_id"])
        queryset = filtered(model._default_manager.all().order_by(), options["filter"])
        if not queryset.exists():
            self.stderr.write("No objects found for filter!")
            return
        self.stdout.write(header(model))
        for batch in batches(queryset, options["batch"]):
            self.stdout.write(encode(self.package(batch)))

    def package(self, batch: QuerySet[Any]) -> list[Any]:
        """The JSON value of one batch's line."""
        raise NotImplementedError
