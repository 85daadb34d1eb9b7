"""The transactional outbox: rows written with the append, and relays that publish them.

The relay tests run real ``relay_outbox`` processes against the real RabbitMQ (the vhost of
``TEST_RABBITMQ_URL``) and consume what they published with kombu.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import override_settings

from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
from toolkit.eventsourcing.outbox import KombuPublisher, OutboxRelay, row_message
from toolkit.models import OutboxEvent
from toolkit.patterns.event_store import EventStore

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store() -> EventStore:
    return EventStore(DjangoEventStoreBackend(outbox=True))


def test_each_append_writes_its_outbox_rows_in_the_same_transaction(store: EventStore) -> None:
    first = store.append("o1", "Order", "OrderPlaced", {"total": 10}, correlation_id="c-1")
    batch = store.append_batch("o1", "Order", [("ItemAdded", {"sku": "a"}), ("OrderPaid", {})])
    rows = list(OutboxEvent.objects.order_by("position"))
    assert [(r.id, r.aggregatetype, r.aggregateid, r.type, r.position) for r in rows] == [
        (e.event_id, "Order", "o1", e.event_type, e.position) for e in [first, *batch]
    ]
    assert rows[0].payload == {"total": 10}
    assert rows[0].headers == {
        "event_id": str(first.event_id),
        "sequence": 1,
        "position": first.position,
        "schema_version": 1,
        "correlation_id": "c-1",
        "causation_id": "",
        "user_id": "",
        "metadata": {},
    }
    assert rows[2].headers["sequence"] == 3
    assert abs((rows[0].timestamp - first.timestamp).total_seconds()) < 1


def test_a_rolled_back_append_leaves_no_outbox_row(store: EventStore) -> None:
    store.append("o1", "Order", "OrderPlaced", {})
    with pytest.raises(RuntimeError), transaction.atomic():
        store.append("o2", "Order", "OrderPlaced", {})
        store.append_batch("o2", "Order", [("A", {}), ("B", {})])
        assert OutboxEvent.objects.count() == 4  # visible inside the transaction
        raise RuntimeError("roll back")
    assert list(OutboxEvent.objects.values_list("aggregateid", flat=True)) == ["o1"]


def test_without_the_outbox_no_row_is_written() -> None:
    EventStore(DjangoEventStoreBackend()).append("o1", "Order", "OrderPlaced", {})
    assert not OutboxEvent.objects.exists()


def test_the_setting_turns_the_outbox_on_for_the_default_store() -> None:
    with override_settings(TOOLKIT={"outbox": {"enabled": True}}):
        EventStore().append("o1", "Order", "OrderPlaced", {})
    EventStore().append("o2", "Order", "OrderPlaced", {})
    assert list(OutboxEvent.objects.values_list("aggregateid", flat=True)) == ["o1"]


def test_bad_outbox_settings_are_reported() -> None:
    from toolkit.conf import validate

    problems = validate({"outbox": {"enabled": "yes", "exchange": "", "url": "x"}})
    assert [p.msg for p in problems] == [
        "Unknown key 'url' in TOOLKIT['outbox']; valid keys are: 'broker_url', 'enabled', "
        "'exchange'.",
        "TOOLKIT['outbox']['enabled'] is 'yes'; valid choices are: False, True.",
        "TOOLKIT['outbox']['exchange'] is ''; it must be a non-empty string.",
    ]


class RecordingPublisher:
    """A broker double: records what it was given, or refuses after ``fail_after`` messages."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.messages: list[tuple[str, str, dict[str, Any]]] = []
        self.fail_after = fail_after

    def publish(self, body: dict[str, Any], *, routing_key: str, message_id: str) -> None:
        if self.fail_after is not None and len(self.messages) >= self.fail_after:
            raise ConnectionError("broker refused the message")
        self.messages.append((routing_key, message_id, body))

    def close(self) -> None:
        pass


def test_a_relay_publishes_in_position_order_and_deletes_only_what_was_confirmed(
    store: EventStore,
) -> None:
    events = [store.append(f"o{i}", "Order", "OrderPlaced", {"i": i}) for i in range(5)]
    failing = RecordingPublisher(fail_after=2)
    with pytest.raises(ConnectionError):
        OutboxRelay(failing, batch_size=3).relay_batch()
    assert OutboxEvent.objects.count() == 5  # the batch rolled back: nothing deleted
    publisher = RecordingPublisher()
    relay = OutboxRelay(publisher, batch_size=3)
    assert relay.relay_batch() == 3
    assert relay.relay_batch() == 2
    assert relay.relay_batch() == 0
    assert [(key, mid) for key, mid, _ in publisher.messages] == [
        ("Order", str(e.event_id)) for e in events
    ]
    body = publisher.messages[0][2]
    assert (body["id"], body["aggregatetype"], body["aggregateid"], body["type"]) == (
        str(events[0].event_id),
        "Order",
        "o0",
        "OrderPlaced",
    )
    assert body["payload"] == {"i": 0} and body["position"] == events[0].position
    assert not OutboxEvent.objects.exists()


def test_relay_command_needs_a_broker_url() -> None:
    with pytest.raises(CommandError) as info:
        call_command("relay_outbox", "--once")
    assert str(info.value).startswith("TOOLKIT['outbox']['broker_url'] is empty; set it to")


def _consume(url: str, exchange: str) -> Any:
    """A durable queue bound to every routing key of ``exchange`` (declared before publishing)."""
    import kombu

    conn = kombu.Connection(url)
    ex = kombu.Exchange(exchange, type="topic", durable=True)
    queue = kombu.Queue(f"{exchange}.q", ex, routing_key="#", durable=False, auto_delete=False)
    queue(conn.channel()).declare()
    return conn, queue


def _drain(conn: Any, queue: Any, received: list[tuple[str, dict[str, Any]]]) -> None:
    with conn.SimpleQueue(queue) as simple:
        while True:
            try:
                message = simple.get(block=True, timeout=0.5)
            except simple.Empty:
                return
            received.append((message.properties.get("message_id"), message.payload))
            message.ack()


def test_the_relay_command_publishes_to_rabbitmq_with_the_event_id(
    store: EventStore, rabbitmq_url: str
) -> None:
    exchange = f"test.outbox.{uuid.uuid4().hex[:8]}"
    conn, queue = _consume(rabbitmq_url, exchange)
    try:
        event = store.append("o1", "Order", "OrderPlaced", {"total": 3})
        out = io.StringIO()
        outbox = {"enabled": True, "broker_url": rabbitmq_url, "exchange": exchange}
        with override_settings(TOOLKIT={"outbox": outbox}):
            call_command("relay_outbox", "--once", stdout=out)
        assert out.getvalue() == "published 1 event(s)\nStopped after 1 event(s).\n"
        received: list[tuple[str, dict[str, Any]]] = []
        _drain(conn, queue, received)
        assert received == [(str(event.event_id), row_message_of(event))]
        assert not OutboxEvent.objects.exists()
    finally:
        queue(conn.channel()).delete()
        conn.release()


def row_message_of(event: Any) -> dict[str, Any]:
    row = OutboxEvent(
        id=event.event_id,
        aggregatetype=event.aggregate_type,
        aggregateid=event.aggregate_id,
        type=event.event_type,
        payload=event.payload,
        timestamp=event.timestamp,
        headers={
            "event_id": str(event.event_id),
            "sequence": event.sequence,
            "position": event.position,
            "schema_version": event.schema_version,
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
            "user_id": event.user_id,
            "metadata": event.metadata,
        },
        position=event.position,
    )
    return row_message(row)


def test_kombu_publisher_publishes_to_redis(redis_url: str) -> None:
    import kombu

    exchange = f"test.outbox.{uuid.uuid4().hex[:8]}"
    with kombu.Connection(redis_url) as conn:
        ex = kombu.Exchange(exchange, type="topic", durable=True)
        queue = kombu.Queue(f"{exchange}.q", ex, routing_key="Order")
        queue(conn.channel()).declare()
        publisher = KombuPublisher(redis_url, exchange)
        publisher.publish({"id": "x"}, routing_key="Order", message_id="x")
        publisher.close()
        with conn.SimpleQueue(queue) as simple:
            message = simple.get(block=True, timeout=5)
            assert (message.payload, message.headers["event_id"]) == ({"id": "x"}, "x")
            message.ack()
        queue(conn.channel()).delete()


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


def _start_relay(url: str, exchange: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.toolkit.eventsourcing.outbox_relay", url, exchange],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


@pytest.fixture
def exchange_queue(rabbitmq_url: str) -> Iterator[tuple[str, Any, Any]]:
    exchange = f"test.outbox.{uuid.uuid4().hex[:8]}"
    conn, queue = _consume(rabbitmq_url, exchange)
    yield exchange, conn, queue
    queue(conn.channel()).delete()
    conn.release()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_relays_one_killed_lose_nothing_and_drain_the_table(
    postgres_only: None,
    rabbitmq_url: str,
    exchange_queue: tuple[str, Any, Any],
    store: EventStore,
    tmp_path: Path,
) -> None:
    exchange, conn, queue = exchange_queue
    total = 600
    relays = [_start_relay(rabbitmq_url, exchange, tmp_path / f"r{i}.log") for i in range(2)]
    appended: list[str] = []
    try:
        for i in range(total):
            appended.append(
                str(store.append(f"o{i % 37}", "Order", "OrderPlaced", {"i": i}).event_id)
            )
            if i == total // 3:
                # Mid-way: wait until the relays have published something, then kill one.
                deadline = time.monotonic() + 60
                while OutboxEvent.objects.count() > total // 6:
                    assert time.monotonic() < deadline, "the relays published nothing"
                    time.sleep(0.05)
                relays[0].send_signal(signal.SIGKILL)
                assert relays[0].wait(10) == -signal.SIGKILL
        deadline = time.monotonic() + 120
        while OutboxEvent.objects.exists():
            assert relays[1].poll() is None, (tmp_path / "r1.log").read_text()
            assert time.monotonic() < deadline, "the outbox never drained"
            time.sleep(0.1)
        relays[1].send_signal(signal.SIGTERM)
        assert relays[1].wait(30) == 0
    finally:
        for relay in relays:
            if relay.poll() is None:
                relay.kill()
    received: list[tuple[str, dict[str, Any]]] = []
    _drain(conn, queue, received)
    ids = [message_id for message_id, _ in received]
    assert set(ids) == set(appended)  # every event at least once, none lost
    assert all(body["id"] == mid for mid, body in received)
    print(f"\n{total} events, {len(ids)} messages ({len(ids) - total} duplicates after the kill)")


@pytest.mark.postgres
def test_an_idle_relay_is_woken_by_notify(postgres_only: None, store: EventStore) -> None:
    import threading

    publisher = RecordingPublisher()
    relay = OutboxRelay(publisher)

    def append() -> None:
        EventStore(DjangoEventStoreBackend(outbox=True)).append("o1", "Order", "OrderPlaced", {})

    try:
        relay.wait(0.01)  # starts listening
        timer = threading.Timer(0.3, append)
        started = time.monotonic()
        timer.start()
        relay.wait(20)
        woke = time.monotonic() - started
        timer.join()
        assert relay.relay_batch() == 1
    finally:
        relay.close()
    assert woke < 10, f"woke after {woke:.1f}s: no NOTIFY"
    assert [key for key, _, _ in publisher.messages] == ["Order"]
