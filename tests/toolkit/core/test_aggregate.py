"""The one aggregate core (toolkit.core.aggregate) under the three aggregate flavours."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

import pytest

from toolkit.core.aggregate import (
    ENVELOPE_FIELDS,
    EventEnvelope,
    EventRecorder,
    IdentityEquality,
    VersionedEventRecorder,
    identity_field_of,
    new_event_id,
    utcnow,
)
from toolkit.ddd import Aggregate as DataclassAggregate
from toolkit.ddd import DomainEvent as DataclassEvent
from toolkit.ddd import mixins
from toolkit.ddd.pydantic import Aggregate as PydanticAggregate
from toolkit.ddd.pydantic import DomainEvent as PydanticEvent
from toolkit.eventsourcing import Aggregate as ESAggregate
from toolkit.eventsourcing import EventSourcedEntity


class Recorder(EventRecorder[str]):
    def __init__(self) -> None:
        self._events: list[str] = []


class Counter(VersionedEventRecorder[str]):
    def __init__(self, version: int = 0) -> None:
        self.version = version
        self._events: list[str] = []


def test_the_flavours_share_the_core() -> None:
    assert issubclass(DataclassAggregate, EventRecorder)
    assert issubclass(DataclassAggregate, IdentityEquality)
    assert issubclass(PydanticAggregate, EventRecorder)
    assert issubclass(PydanticAggregate, IdentityEquality)
    assert issubclass(ESAggregate, VersionedEventRecorder)
    assert issubclass(EventSourcedEntity, VersionedEventRecorder)
    assert issubclass(DataclassEvent, EventEnvelope) and issubclass(PydanticEvent, EventEnvelope)
    assert mixins.IdentityEquality is IdentityEquality
    assert issubclass(mixins.EventRecorder, EventRecorder)


def test_recorder_hands_each_event_over_once() -> None:
    recorder = Recorder()
    assert recorder.record_event("a") == "a"
    recorder.record_event("b")
    pending = recorder.pending_events
    pending.append("not recorded")  # a copy
    assert recorder.pending_events == ["a", "b"]
    assert recorder.collect_events() == ["a", "b"]
    assert recorder.collect_events() == [] and recorder.pending_events == []
    recorder.record_event("c")
    recorder.clear_events()
    assert recorder.pending_events == []


def test_versioned_recorder_counts_events_and_knows_the_persisted_version() -> None:
    counter = Counter(version=3)
    assert counter.persisted_version == 3
    counter.record_event("a")
    counter.record_event("b")
    assert (counter.version, counter.persisted_version) == (5, 3)
    counter.collect_events()
    assert (counter.version, counter.persisted_version) == (5, 5)


def test_event_sourced_aggregate_records_through_the_core() -> None:
    class CoreTodo(ESAggregate):
        abstract = True

        class Created(ESAggregate.Event):
            pass

    todo = CoreTodo.create("t1", CoreTodo.Created, label="x")
    assert (todo.version, todo.persisted_version) == (1, 0)
    assert todo.pending_events == [CoreTodo.Created(label="x")]
    assert todo.collect_events() == [CoreTodo.Created(label="x")]
    assert todo.persisted_version == 1 and todo.snapshot_state() == {"label": "x"}


def test_envelope_ids_and_times() -> None:
    first, second = new_event_id(), new_event_id()
    assert isinstance(first, uuid.UUID) and first != second
    assert utcnow().tzinfo is UTC
    assert {"id", "occurred_on"} == ENVELOPE_FIELDS

    class Happened(DataclassEvent):
        what: str

    event = Happened(what="x")
    assert event.event_id == event.id
    assert Happened(what="x") == event  # the envelope is not the data


def test_identity_field_of_is_shared() -> None:
    from dataclasses import dataclass

    @dataclass
    class Row:
        row_id: int

    assert identity_field_of(Row) == "row_id"

    @dataclass
    class Nothing:
        name: str

    with pytest.raises(Exception, match="Nothing has no identity field"):
        identity_field_of(Nothing)


def test_identity_equality() -> None:
    class Basket(DataclassAggregate):
        basket_id: int
        note: Any = None

    assert Basket(basket_id=1, note="a") == Basket(basket_id=1, note="b")
    assert Basket(basket_id=1).entity_id == 1
    assert hash(Basket(basket_id=1)) == hash(Basket(basket_id=1, note="c"))


def test_event_sourced_pending_events_stay_the_live_assignable_list() -> None:
    class LiveTodo(ESAggregate):
        abstract = True

        class Created(ESAggregate.Event):
            pass

    todo = LiveTodo.create("t1", LiveTodo.Created)
    todo.pending_events.clear()  # as published: the list itself
    assert todo.collect_events() == [] and todo.persisted_version == 1
    todo.pending_events = [LiveTodo.Created(label="again")]
    assert todo.collect_pending() == [LiveTodo.Created(label="again")]
