"""InMemoryRepository: the repository contract without a database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from asgiref.sync import async_to_sync

from tests.toolkit.patterns.docs_examples import run_page
from toolkit.patterns.exceptions import NotFound
from toolkit.patterns.specification import Specification
from toolkit.testing import InMemoryRepository


@dataclass
class Item:
    id: int | None = None
    name: str = ""


class NamedA(Specification):
    def is_satisfied_by(self, entity) -> bool:
        return entity.name.startswith("a")


def test_add_get_list_update_remove() -> None:
    repo = InMemoryRepository()
    entity = repo.add(Item(id=1, name="test"))
    assert repo.get(1) == entity
    second = repo.add(Item(name="apple"))
    assert second.id == 2
    assert repo.list() == [entity, second]
    assert repo.list(NamedA()) == [second]
    second.name = "banana"
    repo.update(second)
    assert repo.list(NamedA()) == []
    repo.remove(entity)
    assert repo.list() == [second]
    assert len(repo) == 1


def test_missing_entities_raise_not_found_like_django() -> None:
    repo = InMemoryRepository(Item)
    with pytest.raises(NotFound) as excinfo:
        repo.get(999)
    assert repr(excinfo.value) == "NotFound(model='Item', id=999)"
    with pytest.raises(NotFound):
        repo.update(Item(id=5))
    with pytest.raises(NotFound):
        repo.remove(Item(id=5))


def test_remove_by_id_as_published() -> None:
    # dmr-toolkit 0.1.0's README: repo.add(MyEntity(id=1, ...)); repo.remove(1).
    repo = InMemoryRepository()
    repo.add(Item(id=1, name="test"))
    repo.add(Item(id=2, name="kept"))
    repo.remove(1)
    assert [item.id for item in repo.list()] == [2]
    with pytest.raises(NotFound) as excinfo:
        repo.remove(1)
    assert repr(excinfo.value) == "NotFound(model='Item', id=1)"
    repo.remove(1, missing_ok=True)
    async_to_sync(repo.aremove)(2)
    assert repo.list() == []


def test_remove_by_string_id_with_custom_id_attribute() -> None:
    @dataclass
    class Sku:
        code: str

    repo = InMemoryRepository(id_attr="code")
    repo.add(Sku("A-1"))
    repo.remove("A-1")
    assert len(repo) == 0


def test_default_model_name() -> None:
    with pytest.raises(NotFound) as excinfo:
        InMemoryRepository().get(1)
    assert repr(excinfo.value) == "NotFound(model='Entity', id=1)"


def test_untyped_repository_names_the_class_it_holds() -> None:
    repo = InMemoryRepository()
    repo.add(Item(id=1))
    with pytest.raises(NotFound) as excinfo:
        repo.get(999)
    assert repr(excinfo.value) == "NotFound(model='Item', id=999)"


def test_adding_existing_id_is_refused() -> None:
    repo = InMemoryRepository()
    repo.add(Item(id=1))
    with pytest.raises(ValueError, match="Item with id 1 is already in the repository"):
        repo.add(Item(id=1, name="dup"))
    assert repo.get(1).name == ""


def test_custom_id_attribute() -> None:
    @dataclass
    class Sku:
        code: str
        qty: int = 0

    repo = InMemoryRepository(id_attr="code")
    repo.add(Sku("A-1"))
    assert repo.get("A-1").qty == 0


def test_async_variants() -> None:
    repo = InMemoryRepository()

    async def scenario() -> list:
        item = await repo.aadd(Item(name="a"))
        item.name = "ab"
        await repo.aupdate(item)
        got = await repo.aget(item.id)
        listed = await repo.alist(NamedA())
        await repo.aremove(item)
        return [got.name, len(listed), await repo.alist()]

    assert async_to_sync(scenario)() == ["ab", 1, []]


def test_docs_page_examples_run() -> None:
    run_page("testing.md")
