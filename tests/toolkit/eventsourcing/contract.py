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
        assert info.value.message == (
            "expected_seq must be between 0 and 9223372036854775807, not -1"
        )

    # -- bad input: one answer on every backend (issue 11, item 6) ---------------------

    BAD_APPENDS: dict[str, tuple[dict[str, Any], str, str]] = {
        # case: (append keyword arguments, field, message)
        "nul in a payload": (
            {"payload": {"note": "a\x00b"}},
            "note",
            "Paid: payload at 'note' must not contain NUL ('\\x00'): 'a\\x00b'",
        ),
        "nul in a key": (
            {"payload": {"a\x00": 1}},
            "payload",
            "Paid: payload at 'payload' has a key that must not contain NUL ('\\x00'): 'a\\x00'",
        ),
        "nul in the aggregate id": (
            {"aggregate_id": "o\x00"},
            "aggregate_id",
            "aggregate_id must not contain NUL ('\\x00'): 'o\\x00'",
        ),
        "nul in the event type": (
            {"event_type": "Pa\x00id"},
            "event_type",
            "event_type must not contain NUL ('\\x00'): 'Pa\\x00id'",
        ),
        "lone surrogate": (
            {"payload": {"items": ["ok", "\ud800"]}},
            "items.1",
            "Paid: payload at 'items.1' must not contain the lone surrogate '\\ud800' "
            "(not valid UTF-8): '\\ud800'",
        ),
        "lone surrogate in metadata": (
            {"metadata": {"via": "\udfff"}},
            "via",
            "Paid: metadata at 'via' must not contain the lone surrogate '\\udfff' "
            "(not valid UTF-8): '\\udfff'",
        ),
        "huge int": (
            {"payload": {"total": 10**20}},
            "total",
            "Paid: payload at 'total' must be a 64-bit integer (at most "
            "±9223372036854775807), not a 21-digit one",
        ),
        "keys 1 and '1'": (
            {"payload": {1: "a", "1": "b"}},
            "payload",
            "Paid: payload at 'payload' has the key 1 (int); keys must be strings "
            "(JSON would turn it into '1')",
        ),
        "infinity": (
            {"payload": {"total": float("inf")}},
            "total",
            "Paid: payload at 'total' must be a finite number, not inf",
        ),
        "over-long correlation id": (
            {"correlation_id": "c" * 65},
            "correlation_id",
            f"correlation_id must be at most 64 characters, not 65 ({'c' * 40!r}...)",
        ),
        "over-long causation id": (
            {"causation_id": "c" * 65},
            "causation_id",
            f"causation_id must be at most 64 characters, not 65 ({'c' * 40!r}...)",
        ),
        "over-long user": (
            {"user": "u" * 256},
            "user_id",
            f"user_id must be at most 255 characters, not 256 ({'u' * 40!r}...)",
        ),
        "user with nul": (
            {"user": "ad\x00min"},
            "user_id",
            "user_id must not contain NUL ('\\x00'): 'ad\\x00min'",
        ),
        "correlation id not a string": (
            {"correlation_id": 7},
            "correlation_id",
            "correlation_id must be a string, not int 7",
        ),
        "expected_seq 10**20": (
            {"expected_seq": 10**20},
            "expected_seq",
            "expected_seq must be between 0 and 9223372036854775807, not 100000000000000000000",
        ),
        "expected_seq a string": (
            {"expected_seq": "1"},
            "expected_seq",
            "expected_seq must be None or an integer, not str '1'",
        ),
        "expected_seq a bool": (
            {"expected_seq": True},
            "expected_seq",
            "expected_seq must be None or an integer, not bool True",
        ),
        "metadata not a dict": (
            {"metadata": ["x"]},
            "metadata",
            "Paid: metadata must be a dict, not list",
        ),
    }

    @pytest.mark.parametrize("case", sorted(BAD_APPENDS))
    def test_bad_input_to_append_is_one_validation_error_and_writes_nothing(
        self, store: EventStore, case: str
    ) -> None:
        kwargs, field, message = self.BAD_APPENDS[case]
        call: dict[str, Any] = {
            "aggregate_id": "o",
            "aggregate_type": "Order",
            "event_type": "Paid",
            "payload": {},
            **kwargs,
        }
        metadata = call.pop("metadata", None)
        with pytest.raises(ValidationError) as info:
            if metadata is None:
                store.append(**call)
            else:
                event_type = call.pop("event_type")
                payload = call.pop("payload")
                store.append_batch(
                    events=[EventData(event_type, payload, metadata)],
                    **{k: v for k, v in call.items()},
                )
        assert (info.value.field, info.value.message) == (field, message)
        assert store.head_position() == 0

    def test_a_60_event_batch_with_one_nul_event_writes_none(self, store: EventStore) -> None:
        events = [("Item", {"i": i, "note": "ok"}) for i in range(60)]
        events[41] = ("Item", {"i": 41, "note": "bad\x00"})
        with pytest.raises(ValidationError) as info:
            store.append_batch("big", "Batch", events)
        assert info.value.field == "note"
        assert (store.head_position(), store.load("big"), store.streams()) == (0, [], [])

    def test_a_circular_payload_is_refused_by_name(self, store: EventStore) -> None:
        payload: dict[str, Any] = {"items": []}
        payload["items"].append(payload)
        with pytest.raises(ValidationError) as info:
            store.append("o", "Order", "Paid", payload)
        assert (info.value.field, info.value.message) == (
            "items.0",
            "Paid: payload at 'items.0' refers back to itself (a circular reference)",
        )
        shared = [1, 2]  # the same list twice is not a cycle
        store.append("o", "Order", "Paid", {"a": shared, "b": shared})
        assert store.load("o")[0].payload == {"a": [1, 2], "b": [1, 2]}

    def test_bad_read_arguments_are_validation_errors(self, store: EventStore) -> None:
        store.append("o", "Order", "Paid", {})
        cases: list[tuple[Any, str, str]] = [
            (
                lambda: store.read_all(limit=-1),
                "limit",
                "limit must be between 0 and 9223372036854775807, not -1",
            ),
            (
                lambda: store.read_all(after_position=-3),
                "after_position",
                "after_position must be between 0 and 9223372036854775807, not -3",
            ),
            (
                lambda: store.read_all(after_position="0"),
                "after_position",
                "after_position must be an integer, not str '0'",
            ),
            (
                lambda: store.load("o", after_seq="x"),
                "after_seq",
                "after_seq must be an integer, not str 'x'",
            ),
            (
                lambda: store.load("o", limit=-1),
                "limit",
                "limit must be between 0 and 9223372036854775807, not -1",
            ),
            (
                lambda: store.load("o\x00"),
                "aggregate_id",
                "aggregate_id must not contain NUL ('\\x00'): 'o\\x00'",
            ),
            (lambda: store.load(""), "aggregate_id", "aggregate_id must be a non-empty string"),
            (
                lambda: store.stream_head("x" * 256),
                "aggregate_id",
                f"aggregate_id must be at most 255 characters, not 256 ({'x' * 40!r}...)",
            ),
            (
                lambda: store.load_snapshot("o", max_seq=-1),
                "max_seq",
                "max_seq must be between 0 and 9223372036854775807, not -1",
            ),
        ]
        for call, field, message in cases:
            with pytest.raises(ValidationError) as info:
                call()
            assert (info.value.field, info.value.message) == (field, message)
        assert store.read_all(limit=0) == []
        assert store.load("o", limit=0) == []

    def test_bad_snapshots_are_validation_errors_and_write_nothing(self, store: EventStore) -> None:
        cases: list[tuple[dict[str, Any], str, str]] = [
            ({"seq": -1}, "seq", "seq must be between 1 and 9223372036854775807, not -1"),
            ({"seq": 0}, "seq", "seq must be between 1 and 9223372036854775807, not 0"),
            ({"seq": "2"}, "seq", "seq must be an integer, not str '2'"),
            (
                {"state": {"s": "\x00"}},
                "s",
                "snapshot: state at 's' must not contain NUL ('\\x00'): '\\x00'",
            ),
            ({"state": ["x"]}, "state", "snapshot: state must be a dict, not list"),
            (
                {"aggregate_type": "T\x00"},
                "aggregate_type",
                "aggregate_type must not contain NUL ('\\x00'): 'T\\x00'",
            ),
        ]
        for kwargs, field, message in cases:
            call = {"aggregate_id": "o", "state": {"ok": 1}, "seq": 1, **kwargs}
            with pytest.raises(ValidationError) as info:
                store.save_snapshot(**call)
            assert (info.value.field, info.value.message) == (field, message)
        assert store.load_snapshot("o") is None

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

    # -- the stream listing (what the panel reads) --------------------------------------

    def _fill_streams(self, store: EventStore) -> list[str]:
        """Seven streams of two types, appended to in a known order; newest id first."""
        order = ["order-1", "cart-1", "order-2", "Order-3", "cart-2", "order-10", "order-1"]
        for aggregate_id in order:
            kind = "Cart" if aggregate_id.startswith("cart") else "Order"
            store.append(aggregate_id, kind, "Touched", {})
        return ["order-1", "order-10", "cart-2", "Order-3", "order-2", "cart-1"]

    def test_stream_pages_walk_every_stream_once_both_ways(self, store: EventStore) -> None:
        newest_first = self._fill_streams(store)
        seen: list[str] = []
        page = store.stream_page(limit=2)
        pages = [page]
        assert page.newer_cursor is None
        while page.older_cursor is not None:
            page = store.stream_page(before=page.older_cursor, limit=2)
            pages.append(page)
        for page in pages:
            seen += [s.aggregate_id for s in page.streams]
        assert seen == newest_first
        assert [len(p.streams) for p in pages] == [2, 2, 2]
        # Back up from the last page: the newer page is the middle one, then the first.
        middle = store.stream_page(after=pages[-1].newer_cursor, limit=2)
        assert [s.aggregate_id for s in middle.streams] == ["cart-2", "Order-3"]
        assert middle.older_cursor is not None and middle.newer_cursor is not None
        top = store.stream_page(after=middle.newer_cursor, limit=2)
        assert [s.aggregate_id for s in top.streams] == ["order-1", "order-10"]
        assert top.newer_cursor is None

    def test_stream_listing_filters_by_type_and_case_sensitive_id_prefix(
        self, store: EventStore
    ) -> None:
        self._fill_streams(store)
        assert [s.aggregate_id for s in store.streams(aggregate_type="Cart")] == [
            "cart-2",
            "cart-1",
        ]
        assert [s.aggregate_id for s in store.streams(id_prefix="order-1")] == [
            "order-1",
            "order-10",
        ]
        assert [s.aggregate_id for s in store.streams(id_prefix="Order")] == ["Order-3"]
        assert store.streams(id_prefix="cart", aggregate_type="Order") == []
        assert store.streams(id_prefix="nothing") == []
        page = store.stream_page(id_prefix="order", limit=1)
        assert [s.aggregate_id for s in page.streams] == ["order-1"]
        rest = store.stream_page(id_prefix="order", before=page.older_cursor, limit=5)
        assert [s.aggregate_id for s in rest.streams] == ["order-10", "order-2"]
        assert rest.older_cursor is None
        typed = store.stream_page(aggregate_type="Order", limit=2)
        older = store.stream_page(aggregate_type="Order", before=typed.older_cursor, limit=2)
        assert [s.aggregate_id for s in typed.streams + older.streams] == [
            "order-1",
            "order-10",
            "Order-3",
            "order-2",
        ]

    def test_stream_entry_types_and_snapshots_of_the_listing(self, store: EventStore) -> None:
        assert (store.stream("cart-1"), store.aggregate_types(), store.snapshots("cart-1")) == (
            None,
            [],
            [],
        )
        self._fill_streams(store)
        entry = store.stream("order-1")
        assert entry is not None
        assert (entry.aggregate_type, entry.last_sequence) == ("Order", 2)
        assert entry.updated_at == store.load("order-1")[-1].timestamp
        assert entry.cursor == store.streams(limit=1)[0].cursor
        assert store.aggregate_types() == ["Cart", "Order"]
        for seq in (1, 2):
            store.save_snapshot("order-1", {"seq": seq}, seq, aggregate_type="Order")
        assert [(s.sequence, s.state) for s in store.snapshots("order-1")] == [
            (2, {"seq": 2}),
            (1, {"seq": 1}),
        ]
        assert [s.sequence for s in store.snapshots("order-1", limit=1)] == [2]

    def test_stream_counts_per_type_with_the_listing_filters(self, store: EventStore) -> None:
        from toolkit.eventsourcing.store import StreamCount

        assert store.count_streams() == [StreamCount(0)]
        self._fill_streams(store)
        kinds = [None, "Cart", "Order", "Invoice"]
        assert store.count_streams(kinds) == [StreamCount(n) for n in (6, 2, 4, 0)]
        assert store.count_streams(kinds, id_prefix="order") == [
            StreamCount(n) for n in (3, 0, 3, 0)
        ]
        assert store.count_streams(["Cart"], id_prefix="nothing") == [StreamCount(0)]
        # A count may stop at its limit (Django does), and then says so.
        for count, exact in zip(store.count_streams(kinds, limit=3), (6, 2, 4, 0), strict=True):
            assert count == StreamCount(exact) or (count == StreamCount(4, exact=False))
        with pytest.raises(ValidationError) as info:
            store.count_streams(["bad\x00type"])
        assert info.value.field == "aggregate_type"

    def test_stream_listing_by_time_of_the_last_append(self, store: EventStore) -> None:
        self._fill_streams(store)
        listed = store.streams()
        times = sorted(s.updated_at for s in listed)
        if not store.streams_by_time:
            # Redis: the listing is scored by position; nothing is offered by time.
            assert store.stream_span() is None
            for call in (store.streams, store.stream_page, store.count_streams):
                with pytest.raises(ValidationError, match="does not list streams by time"):
                    call(since=times[0])
            return
        assert store.stream_span() == (times[0], times[-1])
        assert store.stream_span(aggregate_type="Invoice") is None
        cut = times[3]
        newer = [s.aggregate_id for s in listed if s.updated_at >= cut]
        older = [s.aggregate_id for s in listed if s.updated_at < cut]
        assert [s.aggregate_id for s in store.streams(since=cut)] == newer
        assert [s.aggregate_id for s in store.streams(until=cut)] == older
        assert store.count_streams(since=cut)[0].value == len(newer)  # type: ignore[index]
        carts = [s for s in listed if s.aggregate_type == "Cart" and s.updated_at >= cut]
        assert [s.aggregate_id for s in store.streams(aggregate_type="Cart", since=cut)] == [
            s.aggregate_id for s in carts
        ]
        assert store.stream_span(since=cut) == (min(t for t in times if t >= cut), times[-1])
        page = store.stream_page(since=cut, limit=1)
        seen = [s.aggregate_id for s in page.streams]
        while page.older_cursor is not None:
            page = store.stream_page(since=cut, before=page.older_cursor, limit=1)
            seen += [s.aggregate_id for s in page.streams]
        assert seen == newer
        with pytest.raises(ValidationError, match="since must be an aware datetime"):
            store.streams(since=cut.replace(tzinfo=None))

    def test_stream_span_of_an_id_prefix_search(self, store: EventStore) -> None:
        """The span of the streams whose id starts with the prefix (case-sensitive), with
        the type and time filters too; None when none matches."""
        self._fill_streams(store)
        if not store.streams_by_time:
            assert store.stream_span(id_prefix="order") is None
            return
        listed = {s.aggregate_id: s.updated_at for s in store.streams()}
        orders = sorted(t for i, t in listed.items() if i.startswith("order"))
        assert store.stream_span(id_prefix="order") == (orders[0], orders[-1])
        assert store.stream_span(id_prefix="Order-") == (listed["Order-3"], listed["Order-3"])
        assert store.stream_span(id_prefix="cart", aggregate_type="Cart") == (
            listed["cart-1"],
            listed["cart-2"],
        )
        assert store.stream_span(id_prefix="cart", aggregate_type="Order") is None
        assert store.stream_span(id_prefix="nothing") is None
        cut = orders[1]
        assert store.stream_span(id_prefix="order", since=cut) == (cut, orders[-1])
        assert store.stream_span(id_prefix="order", until=cut) == (orders[0], orders[0])

    @pytest.mark.parametrize("cursor", ["x", "1_", "_1", "-5", "1.5", "٣", "9" * 40])
    def test_a_malformed_stream_cursor_is_a_validation_error(
        self, store: EventStore, cursor: str
    ) -> None:
        store.append("o", "Order", "Created", {})
        for name in ("before", "after"):
            with pytest.raises(ValidationError) as info:
                store.stream_page(**{name: cursor})
            assert info.value.field == name
            assert info.value.message.startswith(
                f"{name}: {cursor!r} is not a stream cursor of this store"
            )

    # -- the all-events feed (what the panel's /events/ page reads) ----------------------

    def _fill_feed(self, store: EventStore) -> list[Any]:
        """Twelve events of three types in two aggregate types and two correlations."""
        for index in range(12):
            kind = "Cart" if index % 3 == 0 else "Order"
            correlation = "req-a" if index % 2 == 0 else "req-b"
            with event_context(correlation_id=correlation):
                store.append(
                    f"{kind.lower()}-{index % 4}",
                    kind,
                    ["Opened", "Paid", "Shipped"][index % 3],
                    {"n": index},
                )
        return store.read_all()

    def test_feed_is_every_event_newest_first_in_keyset_pages_both_ways(
        self, store: EventStore
    ) -> None:
        assert store.feed() == [] and store.feed_page().events == []
        events = self._fill_feed(store)
        newest_first = [e.position for e in reversed(events)]
        assert [e.position for e in store.feed()] == newest_first
        assert store.feed(limit=3) == list(reversed(events))[:3]
        pages = [store.feed_page(limit=5)]
        assert pages[0].newer_cursor is None
        while pages[-1].older_cursor is not None:
            pages.append(store.feed_page(before=pages[-1].older_cursor, limit=5))
        assert [[e.position for e in p.events] for p in pages] == [
            newest_first[0:5],
            newest_first[5:10],
            newest_first[10:],
        ]
        middle = store.feed_page(after=pages[-1].newer_cursor, limit=5)
        assert [e.position for e in middle.events] == newest_first[5:10]
        top = store.feed_page(after=middle.newer_cursor, limit=5)
        assert [e.position for e in top.events] == newest_first[0:5]
        assert top.newer_cursor is None

    @pytest.mark.parametrize(
        "filters",
        [
            {"event_type": "Paid"},
            {"aggregate_type": "Cart"},
            {"correlation_id": "req-b"},
            {"event_type": "Opened", "correlation_id": "req-a"},
            {"event_type": "Paid", "aggregate_type": "Cart"},
            {"event_type": "Nope"},
        ],
    )
    def test_feed_filters_compose_and_page(
        self, store: EventStore, filters: dict[str, str]
    ) -> None:
        events = self._fill_feed(store)
        expected = [
            e.position
            for e in reversed(events)
            if all(getattr(e, name) == value for name, value in filters.items())
        ]
        assert [e.position for e in store.feed(**filters)] == expected
        walked: list[int] = []
        page = store.feed_page(**filters, limit=2)
        walked += [e.position for e in page.events]
        while page.older_cursor is not None:
            page = store.feed_page(**filters, before=page.older_cursor, limit=2)
            walked += [e.position for e in page.events]
        assert walked == expected
        if len(expected) > 2:
            back = store.feed_page(
                **filters, after=expected[3] if len(expected) > 3 else 0, limit=2
            )
            assert [e.position for e in back.events] == expected[1:3]

    def test_feed_time_bounds_keep_since_and_drop_until(self, store: EventStore) -> None:
        events = self._fill_feed(store)
        since, until = events[3].timestamp, events[8].timestamp
        expected = [e.position for e in reversed(events) if since <= e.timestamp < until]
        assert expected and events[8].position not in expected
        assert [e.position for e in store.feed(since=since, until=until)] == expected
        typed = [
            e.position
            for e in reversed(events)
            if e.timestamp >= since and e.event_type == "Shipped"
        ]
        assert [e.position for e in store.feed(since=since, event_type="Shipped")] == typed

    @pytest.mark.parametrize(
        ("arguments", "field"),
        [
            ({"event_type": ""}, "event_type"),
            ({"aggregate_type": 5}, "aggregate_type"),
            ({"correlation_id": "x" * 65}, "correlation_id"),
            ({"since": datetime(2026, 1, 1)}, "since"),
            ({"until": "2026-01-01"}, "until"),
            ({"before": -1}, "before"),
            ({"after": "3"}, "after"),
            ({"before": 3, "after": 1}, "after"),
            ({"limit": 10_001}, "limit"),
        ],
    )
    def test_bad_feed_arguments_are_validation_errors(
        self, store: EventStore, arguments: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(ValidationError) as info:
            store.feed(**arguments)
        assert info.value.field == field
