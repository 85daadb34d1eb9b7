"""DjangoRepository: subclasses only set ``model``; NotFound, specs, async, spans."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from tests.seedapp.models import Order
from tests.toolkit.patterns.docs_examples import run_page
from toolkit.patterns.django_repository import DjangoRepository
from toolkit.patterns.exceptions import NotFound
from toolkit.patterns.repository import Repository
from toolkit.patterns.specification import Specification
from toolkit.testing.otel import capture_spans

pytestmark = pytest.mark.django_db


class OrderRepository(DjangoRepository[Order, int]):
    model = Order


class PremiumSpec(Specification):
    def is_satisfied_by(self, entity) -> bool:
        return entity.tier == "premium"

    def to_query(self) -> Q:
        return Q(tier="premium")


class PaidSpec(Specification):
    def is_satisfied_by(self, entity) -> bool:
        return entity.status == "paid"

    def to_query(self) -> Q:
        return Q(status="paid")


@pytest.fixture
def repo() -> OrderRepository:
    return OrderRepository()


def test_get_returns_entity(repo) -> None:
    order = Order.objects.create(user_id=1)
    assert repo.get(order.pk) == order


def test_get_missing_raises_not_found_with_model_and_id(repo) -> None:
    with pytest.raises(NotFound) as excinfo:
        repo.get(999)
    assert repr(excinfo.value) == "NotFound(model='Order', id=999)"
    assert (excinfo.value.model, excinfo.value.id) == ("Order", 999)


def test_find_and_contains_come_from_the_core_contract(repo) -> None:
    order = Order.objects.create(user_id=1)
    assert repo.find(order.pk) == order and order.pk in repo
    assert repo.find(999) is None and 999 not in repo


def test_list_all_and_by_composed_spec(repo) -> None:
    a = Order.objects.create(tier="premium", status="paid")
    b = Order.objects.create(tier="premium", status="pending")
    c = Order.objects.create(tier="standard", status="paid")
    assert repo.list() == [a, b, c]
    assert repo.list(PremiumSpec() & PaidSpec()) == [a]
    assert repo.list(PremiumSpec() | PaidSpec()) == [a, b, c]
    assert repo.list(~PremiumSpec()) == [c]


def test_add_inserts_and_update_saves(repo) -> None:
    order = repo.add(Order(user_id=7, total=10.0))
    assert order.pk is not None
    order.total = 12.5
    repo.update(order)
    assert Order.objects.get(pk=order.pk).total == 12.5


def test_update_of_missing_row_raises_not_found(repo) -> None:
    with pytest.raises(NotFound) as excinfo:
        repo.update(Order(pk=4242, user_id=1))
    assert repr(excinfo.value) == "NotFound(model='Order', id=4242)"
    assert not Order.objects.exists()


def test_remove_deletes_and_missing_raises(repo) -> None:
    order = Order.objects.create()
    repo.remove(order)
    assert not Order.objects.exists()
    with pytest.raises(NotFound):
        repo.remove(order)


def test_remove_takes_an_id_as_published(repo) -> None:
    # dmr-toolkit 0.1.0: Repository.remove(id) / aremove(id).
    kept, gone = Order.objects.create(), Order.objects.create()
    repo.remove(gone.pk)
    assert list(Order.objects.values_list("pk", flat=True)) == [kept.pk]
    with pytest.raises(NotFound) as excinfo:
        repo.remove(gone.pk)
    assert repr(excinfo.value) == f"NotFound(model='Order', id={gone.pk})"


def test_remove_missing_ok_ignores_a_missing_id_like_the_published_package(repo) -> None:
    order = Order.objects.create()
    repo.remove(order.pk + 1000, missing_ok=True)
    async_to_sync(repo.aremove)(order.pk + 1000, missing_ok=True)
    assert Order.objects.get() == order


def test_aremove_takes_an_id(repo) -> None:
    order = Order.objects.create()
    async_to_sync(repo.aremove)(order.pk)
    assert not Order.objects.exists()
    with pytest.raises(NotFound):
        async_to_sync(repo.aremove)(order.pk)


def test_model_passed_to_the_constructor_as_published() -> None:
    # dmr-toolkit 0.1.0: DjangoRepository(Order) / OrderRepository(Order).
    order = Order.objects.create(user_id=5)
    repo = DjangoRepository(Order)
    assert repo.get(order.pk) == order
    assert repo.get_model() is Order
    assert OrderRepository().get_model() is Order  # the class attribute still works


def test_repository_without_model_names_the_class() -> None:
    class Broken(DjangoRepository[Order, int]):
        pass

    with pytest.raises(ImproperlyConfigured) as excinfo:
        Broken().get(1)
    assert str(excinfo.value) == "Broken has no model; set `model = YourModel` on the class"


def test_abstract_repository_cannot_be_instantiated_without_methods() -> None:
    class Partial(Repository[Order, int]):
        def get(self, id):
            raise NotFound("Order", id)

    with pytest.raises(TypeError, match="abstract"):
        Partial()  # type: ignore[abstract]


def test_async_variants(repo) -> None:
    async_to_sync(check_async_variants)(repo)


async def check_async_variants(repo) -> None:
    order = await repo.aadd(Order(user_id=3, tier="premium"))
    assert (await repo.aget(order.pk)).user_id == 3
    assert [o.pk for o in await repo.alist(PremiumSpec())] == [order.pk]
    order.status = "paid"
    await repo.aupdate(order)
    assert (await repo.aget(order.pk)).status == "paid"
    await repo.aremove(order)
    with pytest.raises(NotFound):
        await repo.aget(order.pk)
    with pytest.raises(NotFound):
        await repo.aremove(order)


def test_operations_emit_spans(repo) -> None:
    with capture_spans() as exporter:
        order = repo.add(Order())
        repo.get(order.pk)
        repo.list()
        repo.update(order)
        repo.remove(order)
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == [
        "repository.add",
        "repository.get",
        "repository.list",
        "repository.update",
        "repository.remove",
    ]
    get_span = exporter.get_finished_spans()[1]
    assert dict(get_span.attributes or {}) == {"model": "Order", "id": str(order.pk)}


def test_async_operations_emit_the_same_spans(repo) -> None:
    async def operations() -> None:
        order = await repo.aadd(Order())
        await repo.aget(order.pk)
        await repo.alist()
        await repo.aupdate(order)
        await repo.aremove(order)

    with capture_spans() as exporter:
        async_to_sync(operations)()
    assert [s.name for s in exporter.get_finished_spans()] == [
        "repository.add",
        "repository.get",
        "repository.list",
        "repository.update",
        "repository.remove",
    ]


def test_docs_page_examples_run() -> None:
    run_page("repository.md")
