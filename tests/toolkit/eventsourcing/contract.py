"""The contract every event store passes: memory, Django (SQLite, PostgreSQL), Redis, fake.

Subclass :class:`EventStoreContract` and implement ``make_store(**options)`` returning an
``EventStore`` (options: ``schemas``, ``validate``, ``upcasters``).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from toolkit.eventsourcing.context import event_context
from toolkit.eventsourcing.schemas import SchemaRegistry
from toolkit.eventsourcing.upcasting import UpcasterRegistry
from toolkit.patterns.event_store import EventData, EventStore
from toolkit.patterns.exceptions import (
    ConcurrencyConflict,
    SchemaValidationError,
    ValidationError,
)


class EventStoreContract:
    """Behaviour shared by every backend."""

    def make_store(self, **options: Any) -> EventStore:
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> EventStore:
        return self.make_store()

    # -- seed API -----------------------------------------------------------------------

    def test_append_returns_the_stored_event_with_its_envelope(self, store: EventStore) -> None:
        before = datetime.now(UTC)
        event = store.append(
            aggregate_id="order-42",
            aggregate_type="Order",
            event_type="OrderCreated",
            payload={"user_id": 42, "total": 99.99},
        )
        assert (event.aggregate_id, event.aggregate_type, event.sequence) == (
            "order-42",
            "Order",
            1,
        )
        assert event.event_type == "OrderCreated"
        assert event.payload == {"user_id": 42, "total": 99.99}
        assert isinstance(event.event_id, uuid.UUID)
        assert event.position >= 1
        assert event.schema_version == 1
        assert event.timestamp.tzinfo is not None and event.timestamp >= before
        assert event.correlation_id == str(event.event_id)

    def test_sequences_are_contiguous_and_load_returns_them_in_order(
        self, store: EventStore
    ) -> None:
        store.append("order-42", "Order", "OrderCreated", {"user_id": 42})
        store.append("order-42", "Order", "OrderPaid", {"method": "card"})
        store.append("order-42", "Order", "OrderShipped", {"tracking": "ABC"})
        events = store.load("order-42")
        assert [(e.sequence, e.event_type) for e in events] == [
            (1, "OrderCreated"),
            (2, "OrderPaid"),
            (3, "OrderShipped"),
        ]
        assert events[2].payload == {"tracking": "ABC"}
        loaded = store.load("order-42")[0]
        assert loaded.timestamp.tzinfo is not None
        assert isinstance(loaded.event_id, uuid.UUID)

    def test_load_after_seq_and_limit(self, store: EventStore) -> None:
        for i in range(5):
            store.append("s", "T", f"E{i}", {"i": i})
        assert [e.sequence for e in store.load("s", after_seq=3)] == [4, 5]
        assert [e.sequence for e in store.load("s", 1, limit=2)] == [2, 3]
        assert store.load("s", after_seq=5) == []

    def test_unknown_aggregate_loads_as_empty(self, store: EventStore) -> None:
        assert store.load("nope") == []
        assert store.stream_head("nope") == 0
        assert store.load_snapshot("nope") is None
        assert store.replay_log("nope") == ""

    def test_replay_log_matches_the_seed(self, store: EventStore) -> None:
        store.append("order-42", "Order", "OrderCreated", {"user_id": 42, "total": 99.99})
        store.append("order-42", "Order", "OrderPaid", {"method": "card"})
        store.append("order-42", "Order", "OrderShipped", {"tracking": "ABC"})
        assert store.replay_log("order-42") == (
            "seq=1 type=OrderCreated\nseq=2 type=OrderPaid\nseq=3 type=OrderShipped"
        )

    # -- optimistic concurrency ---------------------------------------------------------

    def test_expected_seq_matching_the_head_appends(self, store: EventStore) -> None:
        store.append("o", "Order", "A", {}, expected_seq=0)
        event = store.append("o", "Order", "B", {}, expected_seq=1)
        assert event.sequence == 2

    def test_expected_seq_mismatch_raises_and_writes_nothing(self, store: EventStore) -> None:
        for name in ("A", "B", "C"):
            store.append("order-42", "Order", name, {})
        with pytest.raises(ConcurrencyConflict) as info:
            store.append("order-42", "Order", "OrderCancelled", {}, expected_seq=2)
        assert (info.value.aggregate_id, info.value.expected, info.value.actual) == (
            "order-42",
            2,
            3,
        )
        assert str(info.value) == "Aggregate 'order-42': expected sequence 2, found 3"
        assert store.stream_head("order-42") == 3
        assert len(store.load("order-42")) == 3

    def test_expected_seq_zero_on_an_existing_stream_conflicts(self, store: EventStore) -> None:
        store.append("o", "Order", "A", {})
        with pytest.raises(ConcurrencyConflict) as info:
            store.append("o", "Order", "A", {}, expected_seq=0)
        assert info.value.actual == 1

    def test_expected_seq_on_an_unknown_stream_conflicts(self, store: EventStore) -> None:
        with pytest.raises(ConcurrencyConflict) as info:
            store.append("ghost", "Order", "A", {}, expected_seq=4)
        assert (info.value.expected, info.value.actual) == (4, 0)
        assert store.load("ghost") == []

    def test_negative_expected_seq_is_rejected(self, store: EventStore) -> None:
        with pytest.raises(ValidationError) as info:
            store.append("o", "Order", "A", {}, expected_seq=-1)
        assert info.value.message == "expected_seq must be None or an integer ≥ 0, not -1"

    # -- batches ------------------------------------------------------------------------

    def test_batch_append_stores_all_events_in_order(self, store: EventStore) -> None:
        store.append("o", "Order", "Created", {})
        stored = store.append_batch(
            "o",
            "Order",
            [("Paid", {"n": 1}), EventData("Shipped", {"n": 2}, metadata={"via": "ups"})],
            expected_seq=1,
        )
        assert [(e.sequence, e.event_type) for e in stored] == [(2, "Paid"), (3, "Shipped")]
        assert stored[1].position == stored[0].position + 1
        assert [e.event_type for e in store.load("o")] == ["Created", "Paid", "Shipped"]
        assert store.load("o")[2].metadata == {"via": "ups"}

    def test_batch_with_a_conflict_writes_none_of_its_events(self, store: EventStore) -> None:
        store.append("o", "Order", "Created", {})
        with pytest.raises(ConcurrencyConflict):
            store.append_batch("o", "Order", [("A", {}), ("B", {})], expected_seq=0)
        assert [e.event_type for e in store.load("o")] == ["Created"]

    def test_batch_with_an_unserialisable_payload_writes_nothing(self, store: EventStore) -> None:
        when = datetime(2024, 1, 1, tzinfo=UTC)
        with pytest.raises(ValidationError) as info:
            store.append_batch(
                "o", "Order", [("Created", {"ok": 1}), ("Paid", {"card": {"at": when}})]
            )
        assert info.value.field == "card.at"
        assert info.value.message == (
            "Paid: payload is not JSON-serialisable at 'card.at': "
            "datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc) (datetime)"
        )
        assert store.load("o") == []
        assert store.head_position() == 0

    def test_payload_must_be_a_dict(self, store: EventStore) -> None:
        with pytest.raises(ValidationError) as info:
            store.append("o", "Order", "Created", [1, 2])  # type: ignore[arg-type]
        assert info.value.message == "Created: payload must be a dict, not list"

    def test_nan_is_not_json(self, store: EventStore) -> None:
        with pytest.raises(ValidationError) as info:
            store.append("o", "Order", "Created", {"total": float("nan")})
        assert info.value.field == "total"

    def test_stored_payload_is_isolated_from_the_callers_dict(self, store: EventStore) -> None:
        payload = {"items": [1, 2]}
        store.append("o", "Order", "Created", payload)
        payload["items"].append(3)
        store.load("o")[0].payload["items"].append(4)
        assert store.load("o")[0].payload == {"items": [1, 2]}

    # -- metadata -----------------------------------------------------------------------

    def test_correlation_causation_and_user_are_stored(self, store: EventStore) -> None:
        class User:
            pk = 7

        store.append(
            "o", "Order", "Created", {}, correlation_id="req-1", causation_id="cmd-9", user=User()
        )
        with event_context(correlation_id="req-2", user="system"):
            store.append("o", "Order", "Paid", {})
        first, second = store.load("o")
        assert (first.correlation_id, first.causation_id, first.user_id) == ("req-1", "cmd-9", "7")
        assert (second.correlation_id, second.causation_id, second.user_id) == (
            "req-2",
            "",
            "system",
        )

    def test_batch_without_correlation_is_correlated_by_its_first_event(
        self, store: EventStore
    ) -> None:
        stored = store.append_batch("o", "Order", [("A", {}), ("B", {})])
        assert {e.correlation_id for e in store.load("o")} == {str(stored[0].event_id)}

    # -- global feed --------------------------------------------------------------------

    def test_read_all_orders_every_stream_by_position(self, store: EventStore) -> None:
        store.append("a", "T", "A1", {})
        store.append("b", "T", "B1", {})
        store.append_batch("a", "T", [("A2", {}), ("A3", {})])
        feed = store.read_all(0, 10)
        assert [e.event_type for e in feed] == ["A1", "B1", "A2", "A3"]
        assert [e.position for e in feed] == sorted(e.position for e in feed)
        assert len({e.position for e in feed}) == 4
        assert [e.event_type for e in store.read_all(feed[1].position, 1)] == ["A2"]
        assert store.head_position() == feed[-1].position
        assert store.read_all(feed[-1].position) == []

    # -- snapshots ----------------------------------------------------------------------

    def test_snapshots_latest_and_at_or_before_a_sequence(self, store: EventStore) -> None:
        for i in range(4):
            store.append("order-42", "Order", f"E{i}", {})
        store.save_snapshot("order-42", state={"status": "paid"}, seq=2)
        store.save_snapshot("order-42", state={"status": "shipped"}, seq=3, aggregate_type="Order")
        snapshot = store.load_snapshot("order-42")
        assert snapshot is not None
        assert (snapshot.sequence, snapshot.state) == (3, {"status": "shipped"})
        events_after = store.load("order-42", after_seq=snapshot.sequence)
        assert [e.sequence for e in events_after] == [4]
        older = store.load_snapshot("order-42", max_seq=2)
        assert older is not None and older.state == {"status": "paid"}
        assert store.load_snapshot("order-42", max_seq=1) is None

    def test_saving_a_snapshot_twice_replaces_it(self, store: EventStore) -> None:
        store.save_snapshot("o", {"v": 1}, 1)
        store.save_snapshot("o", {"v": 2}, 1)
        snapshot = store.load_snapshot("o")
        assert snapshot is not None and snapshot.state == {"v": 2}

    # -- handlers -----------------------------------------------------------------------

    def test_project_calls_the_handler_for_its_event_type(self, store: EventStore) -> None:
        seen: list[Any] = []
        store.project("OrderPaid", lambda e: seen.append(e.payload))
        store.append("o", "Order", "OrderCreated", {})
        store.append("o", "Order", "OrderPaid", {"method": "card"})
        assert seen == [{"method": "card"}]

    def test_project_with_replay_feeds_stored_events_first(self, store: EventStore) -> None:
        store.append("o", "Order", "OrderPaid", {"n": 1})
        seen: list[int] = []
        store.project("OrderPaid", lambda e: seen.append(e.payload["n"]), replay=True)
        store.append("p", "Order", "OrderPaid", {"n": 2})
        assert seen == [1, 2]

    # -- schemas and upcasting ----------------------------------------------------------

    def test_schema_version_comes_from_the_files_and_upcasters_apply_on_load(
        self, tmp_path: Path
    ) -> None:
        folder = tmp_path / "order"
        folder.mkdir()
        (folder / "v1_order_created.json").write_text(
            json.dumps({"type": "object", "required": ["name"]})
        )
        upcasters = UpcasterRegistry()
        old = self.make_store(upcasters=upcasters)
        old.append("o", "Order", "OrderCreated", {"name": "Ada Lovelace"})
        (folder / "v2_order_created.json").write_text(
            json.dumps({"type": "object", "required": ["first_name", "last_name"]})
        )
        schemas = SchemaRegistry.from_dirs([tmp_path])

        def split(payload: dict[str, Any]) -> dict[str, Any]:
            first, _, last = payload.pop("name").partition(" ")
            return {**payload, "first_name": first, "last_name": last}

        upcasters.register("OrderCreated", 1, split)
        new = self.make_store(schemas=schemas, validate=True, upcasters=upcasters)
        new.backend = old.backend
        new.append("o", "Order", "OrderCreated", {"first_name": "Grace", "last_name": "Hopper"})
        loaded = new.load("o")
        assert [(e.schema_version, e.payload) for e in loaded] == [
            (2, {"first_name": "Ada", "last_name": "Lovelace"}),
            (2, {"first_name": "Grace", "last_name": "Hopper"}),
        ]
        assert new.read_all(0)[0].payload == {"first_name": "Ada", "last_name": "Lovelace"}

    def test_payload_failing_its_schema_raises_and_writes_nothing(self, tmp_path: Path) -> None:
        folder = tmp_path / "order"
        folder.mkdir()
        (folder / "v1_order_paid.json").write_text(
            json.dumps(
                {
                    "type": "object",
                    "properties": {"total": {"type": "number"}},
                    "required": ["total"],
                }
            )
        )
        store = self.make_store(schemas=SchemaRegistry.from_dirs([tmp_path]), validate=True)
        with pytest.raises(SchemaValidationError) as info:
            store.append_batch(
                "o", "Order", [("OrderPaid", {"total": 1}), ("OrderPaid", {"total": "ten"})]
            )
        assert (info.value.event_type, info.value.field) == ("OrderPaid", "total")
        assert str(info.value) == "OrderPaid at 'total': 'ten' is not of type 'number'"
        with pytest.raises(SchemaValidationError) as missing:
            store.append("o", "Order", "OrderPaid", {})
        assert missing.value.field == "total"
        assert store.load("o") == []

    def test_force_validate_checks_one_call_when_validation_is_off(self, tmp_path: Path) -> None:
        folder = tmp_path / "order"
        folder.mkdir()
        (folder / "v1_order_paid.json").write_text(
            json.dumps({"type": "object", "properties": {"total": {"type": "number"}}})
        )
        store = self.make_store(schemas=SchemaRegistry.from_dirs([tmp_path]), validate=False)
        store.append("o", "Order", "OrderPaid", {"total": "ten"})
        with pytest.raises(SchemaValidationError) as info:
            store.append("o", "Order", "OrderPaid", {"total": "ten"}, force_validate=True)
        assert str(info.value) == "OrderPaid at 'total': 'ten' is not of type 'number'"
        with pytest.raises(SchemaValidationError) as missing:
            store.append("o", "Order", "OrderShipped", {}, force_validate=True)
        assert str(missing.value) == (
            "OrderShipped: no schema file for 'order/shipped' "
            "(expected order/v1_order_shipped.json)"
        )
        assert [e.sequence for e in store.load("o")] == [1]

    def test_streams_lists_every_stream_newest_first_with_its_head(self, store: EventStore) -> None:
        assert store.streams() == []
        store.append("order-1", "Order", "OrderCreated", {})
        store.append("cart-1", "Cart", "CartOpened", {})
        store.append_batch("order-2", "Order", [("OrderCreated", {}), ("OrderPaid", {})])
        last = store.append("order-1", "Order", "OrderPaid", {})
        listed = store.streams()
        assert [(s.aggregate_id, s.aggregate_type, s.last_sequence) for s in listed] == [
            ("order-1", "Order", 2),
            ("order-2", "Order", 2),
            ("cart-1", "Cart", 1),
        ]
        assert listed[0].updated_at == last.timestamp
        orders = store.streams(aggregate_type="Order", limit=1)
        assert [s.aggregate_id for s in orders] == ["order-1"]
        assert store.streams(aggregate_type="Invoice") == []
