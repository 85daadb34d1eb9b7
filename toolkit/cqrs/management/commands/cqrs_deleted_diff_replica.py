"""``manage.py cqrs_deleted_diff_replica``: stream the pks of a replica model, for
``cqrs_deleted_diff_master`` to find the ones deleted on the master (django-cqrs 3.1.0)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from toolkit.cqrs.management.diff import ModelStreamCommand, json_pk


class Command(ModelStreamCommand):
    help = "Streaming diff of CQRS model pks from replica service to check for deleted objects."
    side = "replica"

    def package(self, batch: QuerySet[Any]) -> list[Any]:
        return [json_pk(pk) for pk in batch.values_list("pk", flat=True)]
