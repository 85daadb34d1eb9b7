"""The repository's optimistic lock: a conditional UPDATE on ``version_number``."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import TestCase

from demo.allocation import models, services
from demo.allocation.logic import OrderLine
from demo.allocation.repository import ProductRepository
from toolkit.patterns.exceptions import ConcurrencyConflict, NotFound
from toolkit.patterns.unit_of_work import UnitOfWork


class RepositoryTests(TestCase):
    def test_get_unknown_sku_raises_not_found(self) -> None:
        with self.assertRaises(NotFound) as ctx:
            ProductRepository().get("NOPE")
        assert ctx.exception.args == ("Product with id 'NOPE' does not exist",)

    def test_round_trip_keeps_batches_and_lines(self) -> None:
        services.add_batch("b1", "LAMP", 10)
        repo = ProductRepository()
        product = repo.get("LAMP")
        product.allocate(OrderLine(orderid="o1", sku="LAMP", qty=3))
        repo.save(product)
        again = ProductRepository().get("LAMP")
        assert again.batch("b1").allocations == [OrderLine(orderid="o1", sku="LAMP", qty=3)]
        assert again.version_number == 2

    def test_second_writer_from_the_same_version_gets_a_conflict(self) -> None:
        services.add_batch("b1", "LAMP", 10)
        first, second = ProductRepository(), ProductRepository()
        a, b = first.get("LAMP"), second.get("LAMP")
        a.allocate(OrderLine(orderid="o1", sku="LAMP", qty=3))
        b.allocate(OrderLine(orderid="o2", sku="LAMP", qty=3))
        first.save(a)
        with self.assertRaises(ConcurrencyConflict) as ctx, UnitOfWork():
            second.save(b)
        assert ctx.exception.args == ("Aggregate 'LAMP': expected sequence 1, found 2",)
        assert models.Product.objects.get(sku="LAMP").version_number == 2
        assert list(models.Allocation.objects.values_list("orderid", flat=True)) == ["o1"]

    def test_saving_an_unchanged_product_writes_nothing(self) -> None:
        services.add_batch("b1", "LAMP", 10)
        repo = ProductRepository()
        product = repo.get("LAMP")
        with self.assertNumQueries(0):
            repo.save(product)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_to_version_are_not_allowed(postgres_only: None) -> None:
    """Two connections allocate to one product at once: one wins, the version moves once."""
    services.add_batch("batch1", "SNEAKY-LAMP", 100)
    start_version = models.Product.objects.get(sku="SNEAKY-LAMP").version_number
    both_read = threading.Barrier(2, timeout=10)
    outcomes: dict[str, str] = {}

    def try_to_allocate(orderid: str) -> None:
        try:
            with UnitOfWork():
                repo = ProductRepository()
                product = repo.get("SNEAKY-LAMP")
                both_read.wait()
                product.allocate(OrderLine(orderid=orderid, sku="SNEAKY-LAMP", qty=10))
                repo.save(product)
            outcomes[orderid] = "ok"
        except ConcurrencyConflict as exc:
            outcomes[orderid] = repr(exc)
        finally:
            from django.db import connections

            connections.close_all()

    threads = [threading.Thread(target=try_to_allocate, args=(o,)) for o in ("o1", "o2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert connection.vendor == "postgresql"
    assert sorted(outcomes.values()) == [
        "ConcurrencyConflict(aggregate_id='SNEAKY-LAMP', expected=1, actual=2)",
        "ok",
    ]
    assert models.Product.objects.get(sku="SNEAKY-LAMP").version_number == start_version + 1
    winner = next(o for o, outcome in outcomes.items() if outcome == "ok")
    assert list(models.Allocation.objects.values_list("orderid", flat=True)) == [winner]
