"""The one repository core (toolkit.core.repository) and the verbs each face maps onto it."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.core.exceptions import NotFound
from toolkit.core.repository import Repository
from toolkit.ddd import Aggregate, AggregateEvent
from toolkit.ddd import Repository as DDDRepository
from toolkit.eventsourcing import Aggregate as ESAggregate
from toolkit.eventsourcing import AggregateRepository
from toolkit.eventsourcing.backends.memory import MemoryEventStoreBackend
from toolkit.eventsourcing.event_store import EventStore
from toolkit.patterns import Repository as PatternsRepository
from toolkit.testing import InMemoryRepository


class Dict(Repository[str, int]):
    def __init__(self) -> None:
        self.rows: dict[int, str] = {}

    def get(self, id: int, /) -> str:
        if id not in self.rows:
            raise NotFound("Row", id)
        return self.rows[id]

    def add(self, entity: str, /) -> None:
        self.rows[len(self.rows) + 1] = entity


def test_the_faces_implement_the_core() -> None:
    for face in (PatternsRepository, DDDRepository, AggregateRepository, InMemoryRepository):
        assert issubclass(face, Repository), face


def test_core_needs_get_and_add() -> None:
    class OnlyGet(Repository[str, int]):
        def get(self, id: int, /) -> str:
            return ""

    with pytest.raises(TypeError, match="abstract"):
        OnlyGet()  # type: ignore[abstract]


def test_find_and_contains_on_a_not_found_face() -> None:
    repo = Dict()
    repo.add("a")
    assert repo.find(1) == "a" and repo.find(2) is None
    assert 1 in repo and 2 not in repo
    with pytest.raises(NotImplementedError, match="Dict does not remove entities"):
        repo.remove(1)


def test_dddkit_face_add_is_save() -> None:
    class Note(Aggregate):
        note_id: int

        class Written(AggregateEvent):
            pass

    class Notes(DDDRepository[Note, int]):
        def __init__(self) -> None:
            super().__init__()
            self.rows: dict[int, Note] = {}

        def get(self, aggregate_id: int) -> Note:
            if aggregate_id not in self.rows:
                raise NotFound("Note", aggregate_id)
            return self.rows[aggregate_id]

        def persist(self, aggregate: Note) -> None:
            self.rows[aggregate.note_id] = aggregate

    notes = Notes()
    note = Note(note_id=7)
    note.add_event(Note.Written())
    assert notes.add(note) == []  # no changes handler: the events stay pending
    assert note.pending_events == [Note.Written()]
    assert notes.find(7) is note and 7 in notes and notes.find(8) is None


def test_event_sourced_face_add_is_save_and_find_is_get() -> None:
    class CoreWallet(ESAggregate):
        abstract = True

        class Opened(ESAggregate.Event):
            pass

    repo: AggregateRepository[Any] = AggregateRepository(
        CoreWallet, EventStore(MemoryEventStoreBackend())
    )
    wallet = CoreWallet.create("w1", CoreWallet.Opened, owner="ann")
    assert [e.sequence for e in repo.add(wallet)] == [1]
    assert repo.find("w1").owner == "ann" and "w1" in repo
    assert repo.get("w2") is None and repo.find("w2") is None and "w2" not in repo
