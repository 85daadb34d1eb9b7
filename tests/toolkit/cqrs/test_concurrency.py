"""Concurrent deliveries for one instance on PostgreSQL: the newest revision always wins."""

from __future__ import annotations

import json
import random
import threading

import pytest
from django.db import connection
from django.test import TransactionTestCase

from demo.replication.models import ProductReplica
from tests import services
from toolkit.cqrs.consumer import consume_body
from toolkit.cqrs.models import CqrsDeadLetter, CqrsReplicaRevision


def _body(revision: int) -> str:
    return json.dumps(
        {
            "signal_type": "SAVE",
            "cqrs_id": "product",
            "instance_pk": 5,
            "instance_data": {
                "id": 5,
                "sku": "C-5",
                "name": f"rev {revision}",
                "price": "1.00",
                "stock": revision,
                "is_active": True,
                "cqrs_revision": revision,
                "cqrs_updated": "2026-01-01T00:00:00+00:00",
            },
        }
    )


@pytest.mark.postgres
class ConcurrentDeliveryTests(TransactionTestCase):
    def setUp(self):
        services.require_postgres_db()

    def test_racing_out_of_order_and_duplicate_deliveries_keep_the_newest(self):
        consume_body(_body(0))
        bodies = [_body(rev) for rev in range(1, 9)] * 2
        random.Random(7).shuffle(bodies)
        barrier = threading.Barrier(len(bodies))
        errors: list[BaseException] = []

        def deliver(body: str) -> None:
            try:
                barrier.wait(timeout=30)
                consume_body(body, max_retries=0)
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=deliver, args=(b,)) for b in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert not CqrsDeadLetter.objects.exists()
        assert CqrsReplicaRevision.objects.get(cqrs_id="product", instance_pk="5").revision == 8
        replica = ProductReplica.objects.get(pk=5)
        assert (replica.title, replica.stock, replica.cqrs_revision) == ("rev 8", 8, 8)
