"""``manage.py cqrs_diff_master``: stream ``[pk, cqrs_revision]`` pairs of a master model.

django-cqrs 3.1.0's arguments, header line, batches and messages; pipe it into
``cqrs_diff_replica`` (run on the replica service), then into ``cqrs_diff_sync``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from toolkit.cqrs.management.diff import ModelStreamCommand, json_pk


class Command(ModelStreamCommand):
    help = "Streaming diff of CQRS models from master service."
    side = "master"

    def package(self, batch: QuerySet[Any]) -> list[Any]:
        return [
            [json_pk(instance.pk), instance.cqrs_revision]
            for instance in batch
            if instance.is_sync_instance()
        ]
