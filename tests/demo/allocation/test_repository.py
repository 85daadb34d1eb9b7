"""The Django repository and unit of work (the book's ``test_repository.py`` and
``test_uow.py``), and the optimistic lock: a conditional UPDATE on ``version_number``."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection
from django.test import TestCase

from demo.allocation import bootstrap, commands, models
from demo.allocation.fakes import FakeRepository
from demo.allocation.model import Batch, OrderLine, Product
from demo.allocation.repository import AbstractRepository, DjangoRepository
from demo.allocation.unit_of_work import DjangoUnitOfWork
from toolkit.patterns.exceptions import ConcurrencyConflict


def insert_batch(ref: str, sku: str, qty: int, eta: date | None = None) -> None:
    product, _ = models.Product.objects.get_or_create(sku=sku)
    models.Batch.objects.create(reference=ref, product=product, purchased_quantity=qty, eta=eta)


def allocated_batch(orderid: str, sku: str) -> str:
    return models.Allocation.objects.get(orderid=orderid, sku=sku).batch.reference


class RepositoryContract:
    """What every AbstractRepository does; subclasses give ``make_repository()``."""

    def make_repository(self) -> AbstractRepository:
        raise NotImplementedError

    def test_get_of_an_unknown_sku_is_none(self) -> None:
        repo = self.make_repository()
        assert repo.get("NOPE") is None
        assert repo.get_by_batchref("nope") is None
        assert repo.seen == set()

    def test_added_and_fetched_products_are_seen(self) -> None:
        repo = self.make_repository()
        product = Product("LAMP", [Batch("b1", "LAMP", 10, None)])
        repo.add(product)
        assert repo.seen == {product}
        fetched = repo.get("LAMP")
        assert fetched is not None and fetched.sku == "LAMP"
        by_batch = repo.get_by_batchref("b1")
        assert by_batch is not None and by_batch.sku == "LAMP"
        assert {p.sku for p in repo.seen} == {"LAMP"}


class TestFakeRepositoryContract(RepositoryContract):
    def make_repository(self) -> AbstractRepository:
        return FakeRepository([])


class DjangoRepositoryContractTests(RepositoryContract, TestCase):
    def make_repository(self) -> AbstractRepository:
        repository = DjangoRepository()
        original = repository._add

        def add_and_persist(product: Product) -> None:
            original(product)
            repository.persist(product)  # the Django repository writes on commit

        repository._add = add_and_persist  # type: ignore[method-assign]
        return repository


class DjangoRepositoryTests(TestCase):
    def test_repository_can_retrieve_a_batch_with_allocations(self) -> None:
        insert_batch("batch1", "GENERIC-SOFA", 100)
        insert_batch("batch2", "GENERIC-SOFA", 100, date(2026, 6, 1))
        repo = DjangoRepository()
        product = repo.get("GENERIC-SOFA")
        assert product is not None
        product.allocate(OrderLine("order1", "GENERIC-SOFA", 12))
        repo.persist(product)
        again = DjangoRepository().get("GENERIC-SOFA")
        assert again is not None
        [batch1, batch2] = again.batches
        assert (batch1.reference, batch1.eta, batch1.purchased_quantity) == ("batch1", None, 100)
        assert batch1.allocations == (OrderLine("order1", "GENERIC-SOFA", 12),)
        assert batch2.eta == date(2026, 6, 1)
        assert again.version_number == 1

    def test_second_writer_from_the_same_version_gets_a_conflict(self) -> None:
        insert_batch("b1", "LAMP", 10)
        first, second = DjangoRepository(), DjangoRepository()
        a, b = first.get("LAMP"), second.get("LAMP")
        assert a is not None and b is not None
        a.allocate(OrderLine("o1", "LAMP", 3))
        b.allocate(OrderLine("o2", "LAMP", 3))
        first.persist(a)
        with self.assertRaises(ConcurrencyConflict) as ctx, DjangoUnitOfWork():
            second.persist(b)
        assert ctx.exception.args == ("Aggregate 'LAMP': expected sequence 0, found 1",)
        assert models.Product.objects.get(sku="LAMP").version_number == 1
        assert list(models.Allocation.objects.values_list("orderid", flat=True)) == ["o1"]

    def test_persisting_an_unchanged_product_writes_nothing(self) -> None:
        insert_batch("b1", "LAMP", 10)
        repo = DjangoRepository()
        product = repo.get("LAMP")
        assert product is not None
        with self.assertNumQueries(0):
            repo.persist(product)


class DjangoUnitOfWorkTests(TestCase):
    def test_uow_can_retrieve_a_batch_and_allocate_to_it(self) -> None:
        insert_batch("batch1", "HIPSTER-WORKBENCH", 100)
        uow = DjangoUnitOfWork()
        with uow:
            product = uow.products.get(sku="HIPSTER-WORKBENCH")
            assert product is not None
            product.allocate(OrderLine("o1", "HIPSTER-WORKBENCH", 10))
            uow.commit()
        assert allocated_batch("o1", "HIPSTER-WORKBENCH") == "batch1"

    def test_rolls_back_uncommitted_work_by_default(self) -> None:
        uow = DjangoUnitOfWork()
        with uow:
            insert_batch("batch1", "MEDIUM-PLINTH", 100)
        assert not models.Batch.objects.exists()

    def test_rolls_back_on_error(self) -> None:
        class MyException(Exception):
            pass

        uow = DjangoUnitOfWork()
        with pytest.raises(MyException), uow:
            insert_batch("batch1", "LARGE-FORK", 100)
            raise MyException()
        assert not models.Batch.objects.exists()

    def test_work_after_commit_is_rolled_back_without_another_commit(self) -> None:
        uow = DjangoUnitOfWork()
        with uow:
            insert_batch("batch1", "KEPT", 1)
            uow.commit()
            insert_batch("batch2", "DROPPED", 1)
        assert list(models.Batch.objects.values_list("reference", flat=True)) == ["batch1"]

    def test_commit_outside_the_block_is_an_error(self) -> None:
        with pytest.raises(RuntimeError, match=r"works inside `with uow:` only"):
            DjangoUnitOfWork().commit()


class ReadModelTests(TestCase):
    """The book's ``test_views.py``: the read model through the real message bus."""

    def test_allocations_view(self) -> None:
        from demo.allocation import views

        bus = bootstrap.bootstrap()
        today = date.today()
        bus.handle(commands.CreateBatch("sku1batch", "sku1", 50, None))
        bus.handle(commands.CreateBatch("sku2batch", "sku2", 50, today))
        bus.handle(commands.Allocate("order1", "sku1", 20))
        bus.handle(commands.Allocate("order1", "sku2", 20))
        # add a spurious batch and order to make sure we're getting the right ones
        bus.handle(commands.CreateBatch("sku1batch-later", "sku1", 50, today))
        bus.handle(commands.Allocate("otherorder", "sku1", 30))
        bus.handle(commands.Allocate("otherorder", "sku2", 10))

        assert views.allocations("order1", bus.uow) == [
            {"sku": "sku1", "batchref": "sku1batch"},
            {"sku": "sku2", "batchref": "sku2batch"},
        ]

    def test_deallocation(self) -> None:
        from demo.allocation import views

        bus = bootstrap.bootstrap()
        bus.handle(commands.CreateBatch("b1", "sku1", 50, None))
        bus.handle(commands.CreateBatch("b2", "sku1", 50, date.today()))
        bus.handle(commands.Allocate("o1", "sku1", 40))
        bus.handle(commands.ChangeBatchQuantity("b1", 10))

        assert views.allocations("o1", bus.uow) == [{"sku": "sku1", "batchref": "b2"}]
        assert allocated_batch("o1", "sku1") == "b2"

    def test_out_of_stock_mails_the_buyers_through_django(self) -> None:
        from django.core import mail

        bus = bootstrap.bootstrap()
        bus.handle(commands.CreateBatch("b1", "LAMP", 1, None))
        bus.handle(commands.Allocate("o1", "LAMP", 2))
        assert [(m.to, m.body) for m in mail.outbox] == [
            (["stock@made.com"], "Out of stock for LAMP")
        ]

    def test_allocated_is_published_on_the_toolkit_event_bus(self) -> None:
        from toolkit.patterns.observer import get_default_bus

        received: list[object] = []
        bus_of_the_toolkit = get_default_bus()
        bus_of_the_toolkit.subscribe("allocation.line_allocated", received.append)
        self.addCleanup(bus_of_the_toolkit.off, "allocation.line_allocated", received.append)
        bus = bootstrap.bootstrap()
        bus.handle(commands.CreateBatch("b1", "LAMP", 5, None))
        bus.handle(commands.Allocate("o1", "LAMP", 2))
        assert received == [{"orderid": "o1", "sku": "LAMP", "qty": 2, "batchref": "b1"}]


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_to_version_are_not_allowed(postgres_only: None) -> None:
    """Two connections allocate to one product at once: one wins, the version moves once."""
    bootstrap.bootstrap().handle(commands.CreateBatch("batch1", "SNEAKY-LAMP", 100, None))
    start_version = models.Product.objects.get(sku="SNEAKY-LAMP").version_number
    both_read = threading.Barrier(2, timeout=10)
    outcomes: dict[str, str] = {}

    def try_to_allocate(orderid: str) -> None:
        try:
            uow = DjangoUnitOfWork()
            with uow:
                product = uow.products.get("SNEAKY-LAMP")
                assert product is not None
                both_read.wait()
                product.allocate(OrderLine(orderid, "SNEAKY-LAMP", 10))
                uow.commit()
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
