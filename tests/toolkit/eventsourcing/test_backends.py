"""Every backend passes :class:`EventStoreContract`; the fake is that facade over the memory
backend (pinned by :class:`TestFakeEventStore`), so it is not run through the contract twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest

from tests import services
from tests.toolkit.eventsourcing.contract import EventStoreContract
from toolkit.core.exceptions import ValidationError
from toolkit.eventsourcing.backends.django import _CURSOR_ATTRIBUTE, DjangoEventStoreBackend
from toolkit.eventsourcing.backends.memory import MemoryEventStoreBackend
from toolkit.eventsourcing.backends.redis import RedisEventStoreBackend
from toolkit.eventsourcing.event_store import EventData, _uuid4
from toolkit.eventsourcing.store import NewEvent
from toolkit.eventsourcing.upcasting import upcasters as default_upcasters
from toolkit.patterns.event_store import EventStore
from toolkit.testing.event_store import FakeEventStore

REDIS_URL = services.REDIS_URL


class TestMemoryBackend(EventStoreContract):
    def make_store(self, **options: Any) -> EventStore:
        return EventStore(MemoryEventStoreBackend(), **options)


class TestFakeEventStore:
    """The fake is the real facade over the memory backend, so TestMemoryBackend's contract
    run already covers it; running the contract again would test the same code twice. These
    tests pin that it stays so, and test what the fake adds."""

    def test_is_the_facade_over_the_memory_backend_with_no_method_overridden(self) -> None:
        store = FakeEventStore()
        assert isinstance(store, EventStore)
        assert type(store.backend) is MemoryEventStoreBackend
        overridden = sorted(
            name
            for name, value in vars(FakeEventStore).items()
            if callable(value) and not name.startswith("__")
        )
        # A new override here must come with a contract run of its own.
        assert overridden == ["clear", "reset"]

    def test_reads_no_settings_and_keeps_its_own_upcasters(self, settings: Any) -> None:
        settings.TOOLKIT = {
            "patterns": {"event_store_backend": "redis"},
            "eventsourcing": {"validate_on_append": True, "redis_url": "redis://0.0.0.0:1/0"},
        }
        store = FakeEventStore()
        stored = store.append("agg-1", "Order", "Created", {"total": 1})
        assert (stored.sequence, store.validate) == (1, False)
        assert store.upcasters is not FakeEventStore().upcasters
        assert store.upcasters is not default_upcasters

    def test_clear_forgets_everything(self) -> None:
        store = FakeEventStore()
        store.append("agg-1", "Order", "Created", {})
        store.clear()
        assert store.load("agg-1") == []
        assert store.head_position() == 0


@pytest.mark.django_db(transaction=True)
class TestDjangoBackend(EventStoreContract):
    """Runs on SQLite by default and on PostgreSQL with DATABASE_URL."""

    def make_store(self, **options: Any) -> EventStore:
        return EventStore(DjangoEventStoreBackend(), **options)

    def test_every_append_keeps_the_stream_row_up_to_date(self) -> None:
        from toolkit.models import EventStream

        store = self.make_store()
        store.append("order-1", "Order", "Created", {})
        store.append_batch("order-1", "Order", [("Paid", {}), ("Shipped", {})])
        stream = EventStream.objects.get(aggregate_id="order-1")
        assert (stream.aggregate_type, stream.last_sequence) == ("Order", 3)
        assert stream.updated_at >= stream.created_at

    def test_an_append_inside_a_rolled_back_transaction_leaves_nothing(self) -> None:
        from django.db import transaction

        store = self.make_store()
        with pytest.raises(RuntimeError), transaction.atomic():
            store.append("order-1", "Order", "Created", {})
            raise RuntimeError("boom")
        assert store.load("order-1") == []
        assert store.stream_head("order-1") == 0

    def test_handlers_run_after_commit(self) -> None:
        from django.db import transaction

        store = self.make_store()
        seen: list[str] = []
        store.project("Created", lambda e: seen.append(e.aggregate_id))
        with transaction.atomic():
            store.append("order-1", "Order", "Created", {})
            assert seen == []
        assert seen == ["order-1"]

    def test_the_unique_sequence_constraint_backs_the_stream_check(self) -> None:
        from django.db import IntegrityError, connection, transaction

        self.make_store().append("order-1", "Order", "Created", {})
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO toolkit_domainevent (event_id, aggregate_id, aggregate_type, "
                "sequence, event_type, schema_version, payload, metadata, correlation_id, "
                "causation_id, user_id, created_at) "
                "VALUES (%s, 'order-1', 'Order', 1, 'X', 1, '{}', '{}', '', '', '', %s)",
                [uuid.uuid4().hex, "2026-01-01 00:00:00"],
            )

    def test_the_orm_refuses_to_write_events(self) -> None:
        from toolkit.models import DomainEvent

        stored = self.make_store().append("order-1", "Order", "Created", {})
        refused = (
            "DomainEvent rows are immutable and written only by EventStore.append() or "
            "append_batch(), which move the EventStream head and take the lock that keeps the "
            "global feed in commit order; {} would bypass both."
        )
        with pytest.raises(TypeError) as create:
            DomainEvent.objects.create(
                aggregate_id="order-1", aggregate_type="Order", sequence=2, event_type="X"
            )
        assert str(create.value) == refused.format("saving 'order-1' #2 through the ORM")
        row = DomainEvent.objects.get(aggregate_id="order-1")
        row.event_type = "Changed"
        with pytest.raises(TypeError):
            row.save()
        for what, call in [
            ("bulk_create", lambda: DomainEvent.objects.bulk_create([DomainEvent()])),
            ("bulk_update", lambda: DomainEvent.objects.bulk_update([row], ["event_type"])),
            ("update", lambda: DomainEvent.objects.filter(id=row.id).update(event_type="X")),
        ]:
            with pytest.raises(TypeError) as info:
                call()
            assert str(info.value) == refused.format(f"DomainEvent.objects.{what}()")
        assert [(e.event_type, e.sequence) for e in self.make_store().load("order-1")] == [
            (stored.event_type, 1)
        ]

    def test_large_batches_keep_sequence_and_position_order(self) -> None:
        backend = DjangoEventStoreBackend()
        backend.insert_chunk = 7
        store = EventStore(backend)
        stored = store.append_batch("big", "T", [("E", {"i": i}) for i in range(20)])
        assert [e.sequence for e in stored] == list(range(1, 21))
        assert [e.payload["i"] for e in store.load("big")] == list(range(20))
        assert [e.position for e in stored] == [e.position for e in store.load("big")]

    def test_a_prefix_matching_many_streams_spans_them_through_the_time_index(self) -> None:
        """Above SPAN_PREFIX_LIMIT matching streams the span falls back to the two seeks on
        the updated_at index, with the same answer; the span of a selective prefix is one
        query (its streams' own rows, through the id index)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from toolkit.eventsourcing.backends import django as backend_module

        store = self.make_store()
        self._fill_streams(store)
        listed = {s.aggregate_id: s.updated_at for s in store.streams()}
        orders = sorted(t for i, t in listed.items() if i.startswith("order"))
        with CaptureQueriesContext(connection) as queries:
            assert store.stream_span(id_prefix="order") == (orders[0], orders[-1])
        assert len(queries) == 1
        with mock.patch.object(backend_module, "SPAN_PREFIX_LIMIT", 1):
            with CaptureQueriesContext(connection) as queries:
                assert store.stream_span(id_prefix="order") == (orders[0], orders[-1])
            assert len(queries) == 3
            assert store.stream_span(id_prefix="Order-") == (listed["Order-3"],) * 2
            assert store.stream_span(id_prefix="nothing") is None


class TestRedisBackend(EventStoreContract):
    @pytest.fixture(autouse=True)
    def _redis(self) -> Iterator[None]:
        services.require_redis()
        self.prefix = f"test:es:{uuid.uuid4().hex}"
        self.backends: list[RedisEventStoreBackend] = []
        yield
        for backend in self.backends:
            backend.clear()

    def make_store(self, **options: Any) -> EventStore:
        backend = RedisEventStoreBackend.from_url(REDIS_URL, prefix=self.prefix)
        self.backends.append(backend)
        return EventStore(backend, **options)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "not-prepared"])
def test_postgres_appends_are_prepared_unless_disabled(prepared: bool) -> None:
    services.require_postgres_db()
    from django.db import connection

    connection.close()  # a new session: Django opens it with prepare_threshold=None
    store = EventStore(DjangoEventStoreBackend(prepared_statements=prepared))
    store.append("p-1", "T", "E", {})
    store.append("p-1", "T", "E", {}, 1)
    store.append_batch("p-1", "T", [("E", {}), ("E", {})], 2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        appends = [row[0] for row in cursor.fetchall() if "pg_advisory_xact_lock" in row[0]]
    assert len(appends) == (3 if prepared else 0)  # new, expected, batch-expected
    assert connection.connection.prepare_threshold == (2**31 - 1 if prepared else None)
    assert [e.sequence for e in store.load("p-1")] == [1, 2, 3, 4]


def test_the_prepared_statements_setting_reaches_the_default_backend() -> None:
    from django.test import override_settings

    from toolkit.eventsourcing import config

    with override_settings(TOOLKIT={"eventsourcing": {"prepared_statements": False}}):
        backend = config.default_backend()
        assert isinstance(backend, DjangoEventStoreBackend)
        assert backend.prepared_statements is False
    assert config.default_backend().prepared_statements is True  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("use_tz", [True, False], ids=["USE_TZ", "no-USE_TZ"])
def test_event_and_snapshot_times_round_trip_with_and_without_use_tz(use_tz: bool) -> None:
    from django.test import override_settings

    from toolkit.models import EventStream

    with override_settings(USE_TZ=use_tz):
        store = EventStore(DjangoEventStoreBackend())
        stored = store.append("tz-1", "T", "E", {})
        snapshot = store.save_snapshot("tz-1", {"n": 1}, 1)
        assert store.load("tz-1")[0].timestamp == stored.timestamp
        loaded = store.load_snapshot("tz-1")
        assert loaded is not None and loaded.created_at == snapshot.created_at
        if use_tz:  # the ORM reads the stream row's time back as the same instant
            assert EventStream.objects.get(aggregate_id="tz-1").updated_at == stored.timestamp


@pytest.mark.django_db(transaction=True)
def test_a_database_error_in_an_append_comes_out_as_djangos() -> None:
    """Outside a transaction an append runs on the driver's cursor and translates the
    driver's error only when one happens: still Django's class, and the connection works."""
    from django.db import DataError, Error, IntegrityError

    backend = DjangoEventStoreBackend()
    bad = NewEvent("E", {}, "not JSON", uuid.uuid4())  # SQLite's JSON_VALID, PG's jsonb refuse
    with pytest.raises(Error) as info:
        backend.append("bad-1", "T", [bad], expected_seq=None, timestamp=datetime.now(UTC))
    assert isinstance(info.value, IntegrityError | DataError)
    assert type(info.value).__module__ == "django.db.utils"
    store = EventStore(backend)
    assert store.load("bad-1") == []
    assert store.append("bad-1", "T", "E", {}, 0).sequence == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_appends_reuse_one_cursor_per_driver_connection() -> None:
    services.require_postgres_db()
    from django.db import connections

    connection = connections["default"]  # the wrapper (django.db.connection is a proxy)
    store = EventStore(DjangoEventStoreBackend())
    store.append("c-1", "T", "E", {}, 0)
    store.append("c-1", "T", "E", {}, 1)
    first = connection.__dict__[_CURSOR_ATTRIBUTE]
    store.append("c-1", "T", "E", {}, 2)
    assert connection.__dict__[_CURSOR_ATTRIBUTE] is first
    connection.close()  # a new session gets a new cursor
    store.append("c-1", "T", "E", {}, 3)
    raw, cursor = connection.__dict__[_CURSOR_ATTRIBUTE]
    assert raw is connection.connection and cursor is not first[1]
    assert [e.sequence for e in store.load("c-1")] == [1, 2, 3, 4]


def test_event_ids_are_random_version_4_uuids() -> None:
    ids = [_uuid4() for _ in range(1000)]
    assert len(set(ids)) == 1000
    for value in ids:
        assert (value.version, value.variant) == (4, uuid.RFC_4122)
        assert value == uuid.UUID(str(value)) == uuid.UUID(bytes=value.bytes, version=4)
        assert value.is_safe is uuid.SafeUUID.unknown


_LONG = "é" * 256


@pytest.mark.parametrize(
    "bad",
    [
        {"aggregate_id": ""},
        {"aggregate_id": 7},
        {"aggregate_id": "o\x00"},
        {"aggregate_id": _LONG},
        {"aggregate_type": "T\ud800"},
        {"event_type": ""},
        {"event_type": b"E"},
        {"event_type": _LONG},
        {"expected_seq": "1"},
        {"expected_seq": -1},
        {"correlation_id": "c" * 65},
        {"causation_id": "c\x00"},
        {"user": "u" * 256},
        {"payload": [1]},
        {"payload": {"n": float("nan")}},
        {"payload": {1: "a"}},
        {"metadata": ["m"]},
        {"metadata": {"m": "\x00"}},
    ],
)
def test_one_event_append_refuses_as_the_batch_does(bad: dict[str, Any]) -> None:
    """append's single-event path and its own checks refuse exactly what append_batch of
    that one event refuses, with the same field and message, and write nothing."""
    call: dict[str, Any] = {
        "aggregate_id": "o",
        "aggregate_type": "T",
        "event_type": "E",
        "payload": {"n": 1},
        "metadata": None,
        "expected_seq": None,
        "correlation_id": None,
        "causation_id": None,
        "user": None,
        **bad,
    }
    store = EventStore(MemoryEventStoreBackend())
    envelope = {k: call[k] for k in ("correlation_id", "causation_id", "user")}
    with pytest.raises(ValidationError) as single:
        store.append(
            call["aggregate_id"],
            call["aggregate_type"],
            call["event_type"],
            call["payload"],
            call["expected_seq"],
            metadata=call["metadata"],
            **envelope,
        )
    with pytest.raises(ValidationError) as batch:
        store.append_batch(
            call["aggregate_id"],
            call["aggregate_type"],
            [EventData(call["event_type"], call["payload"], call["metadata"])],
            call["expected_seq"],
            **envelope,
        )
    assert (single.value.field, single.value.message) == (batch.value.field, batch.value.message)
    assert store.head_position() == 0
