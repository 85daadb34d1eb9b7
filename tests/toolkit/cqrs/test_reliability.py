"""Issue 11: racing writers never make a replica diverge; poison messages never loop.

* Two processes save the same master rows outside any transaction (plain autocommit) on
  PostgreSQL, over the in-process transport and over the real RabbitMQ and Redis: every
  replica row ends equal to its master row.
* Messages the database cannot store (NUL, NaN, non-UTF-8 bytes with 0x00) are dead-lettered
  with the payload kept as escaped text, then replayable; never requeued for ever.
"""

from __future__ import annotations

import json
import multiprocessing
import time
import uuid
from decimal import Decimal

import kombu
import pytest
import redis
from django.db import connections
from django.test import TransactionTestCase, override_settings

from demo.replication.models import Product, ProductReplica
from tests import services
from tests.toolkit.cqrs.messages import save_body
from toolkit.cqrs.consumer import ESCAPED_KEY, consume_body, replay_body
from toolkit.cqrs.dead_letters import replay_dead_letter
from toolkit.cqrs.models import CqrsDeadLetter
from toolkit.cqrs.transport.kombu import KombuTransport

ROWS = 60
SAVES = 2


def _writer(pks: list[int], tag: str, settings: dict, barrier) -> None:
    """A process that saves each row SAVES times in autocommit, with its own data.

    Both writers walk the rows in the same order from the same instant, so they hit the same
    row at about the same time: the interleaving that made both publish one revision.
    """
    connections.close_all()
    # A slow read-back of the new revision (a loaded database, a network hop): it widens the
    # window between the UPDATE and the read from microseconds to 20 ms, so the interleaving
    # the race needs happens on most rows instead of by luck.
    original = Product.refresh_from_db

    def slow_refresh(self, *args, **kwargs):
        time.sleep(0.02)
        return original(self, *args, **kwargs)

    Product.refresh_from_db = slow_refresh
    with override_settings(TOOLKIT=settings):
        barrier.wait(30)
        for i in range(SAVES):
            for pk in pks:
                product = Product.objects.get(pk=pk)
                product.name = f"{tag}-{i}"
                product.stock = i if tag == "a" else 1000 + i
                product.save()
    connections.close_all()


def _race(settings: dict) -> list[int]:
    pks = [
        Product.objects.create(sku=f"R-{n}", name="start", price=Decimal(1)).pk for n in range(ROWS)
    ]
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    writers = [context.Process(target=_writer, args=(pks, tag, settings, barrier)) for tag in "ab"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    return pks


def _assert_replicas_equal_masters(pks: list[int]) -> None:
    for pk in pks:
        master = Product.objects.get(pk=pk)
        replica = ProductReplica.objects.get(pk=pk)
        assert (replica.title, replica.stock, replica.cqrs_revision) == (
            master.name,
            master.stock,
            master.cqrs_revision,
        ), pk
        # Both writers saved every row SAVES times: one revision per save, none shared.
        assert master.cqrs_revision == 2 * SAVES


@pytest.mark.postgres
class TwoWriterRaceTests(TransactionTestCase):
    def setUp(self) -> None:
        services.require_postgres_db()

    def test_two_autocommit_writers_in_process_transport_replica_never_diverges(self) -> None:
        pks = _race({})
        _assert_replicas_equal_masters(pks)

    def _broker_race(self, url: str) -> None:
        name = f"cqrs_race_{uuid.uuid4().hex[:8]}"
        settings = {
            "cqrs": {
                "transport": "toolkit.cqrs.transport.kombu.KombuTransport",
                "broker_url": url,
                "exchange": name,
                "queue": name,
                "retry_delay": 0,
            }
        }
        try:
            with override_settings(TOOLKIT=settings):
                KombuTransport.clean_connection()
                # Declares the queue (this service has replica models) before the writers run.
                KombuTransport.produce(_noop_payload())
                pks = _race(settings)
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    KombuTransport.consume(idle_timeout=0.2, stop=_stop_after(1.5))
                    try:
                        _assert_replicas_equal_masters(pks)
                        break
                    except (AssertionError, ProductReplica.DoesNotExist):
                        continue
                _assert_replicas_equal_masters(pks)
        finally:
            _delete_broker_objects(url, name)

    @pytest.mark.rabbitmq
    def test_two_autocommit_writers_over_rabbitmq_replica_never_diverges(self) -> None:
        services.require_rabbitmq()
        self._broker_race(services.RABBITMQ_URL)

    @pytest.mark.redis
    def test_two_autocommit_writers_over_redis_replica_never_diverges(self) -> None:
        services.require_redis()
        self._broker_race(services.REDIS_URL)


def _delete_broker_objects(url: str, name: str) -> None:
    """Drop the test's queue and exchange (and kombu's Redis keys for them)."""
    KombuTransport.clean_connection()
    with kombu.Connection(url) as connection:
        channel = connection.channel()
        kombu.Queue(name)(channel).delete()
        kombu.Exchange(name)(channel).delete()
    if url.startswith("redis"):
        client = redis.Redis.from_url(url)
        for key in list(client.scan_iter(match=f"*{name}*")):
            client.delete(key)


def _noop_payload():
    from toolkit.cqrs.constants import SignalType
    from toolkit.cqrs.dataclasses import TransportPayload

    # A DELETE of a row that never existed: applied as a no-op by the replica.
    return TransportPayload(
        SignalType.DELETE,
        "product",
        {"id": 10**9, "cqrs_revision": 0, "cqrs_updated": "2026-01-01 00:00:00+00:00"},
        10**9,
    )


def _stop_after(seconds: float):
    import threading

    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.daemon = True
    timer.start()
    return stop


class PoisonMessageTests(TransactionTestCase):
    def test_non_utf8_body_with_nul_is_dead_lettered_as_escaped_text(self) -> None:
        assert consume_body(b'{"\xff\x00"}', max_retries=0) == "dead_letter"
        letter = CqrsDeadLetter.objects.get()
        assert letter.reason == "malformed"
        assert letter.payload == {ESCAPED_KEY: '{"\\xff\\x00"}', "encoding": "bytes"}
        assert letter.error.endswith("[body kept as escaped text: not storable as JSON]")

    def test_queue_that_is_not_a_string_is_dead_lettered(self) -> None:
        body = json.loads(save_body(3, "ok"))
        body["queue"] = 7
        assert consume_body(json.dumps(body), max_retries=0) == "dead_letter"
        letter = CqrsDeadLetter.objects.get()
        assert (letter.reason, letter.error) == (
            "malformed",
            "'queue' must be a string or null, not 7",
        )

    @pytest.mark.postgres
    def test_nul_and_nan_payload_that_fails_is_dead_lettered_escaped_then_replayable(
        self,
    ) -> None:
        services.require_postgres_db()
        body = save_body(5, "bad\u0000name", price=float("nan"))
        assert consume_body(body, max_retries=1, retry_delay=0) == "dead_letter"
        letter = CqrsDeadLetter.objects.get()
        assert letter.reason == "failed"
        assert letter.attempts == 2
        assert set(letter.payload) == {ESCAPED_KEY, "encoding"}
        restored = json.loads(replay_body(letter.payload))
        assert restored["instance_data"]["name"] == "bad\u0000name"
        assert restored["instance_data"]["price"] != restored["instance_data"]["price"]  # NaN
        assert "[payload kept as escaped JSON text" in letter.error
        # Replaying it fails again (the data is still bad): counted, never raised.
        assert replay_dead_letter(letter) == "dead_letter"
        letter.refresh_from_db()
        assert letter.attempts == 3


@pytest.mark.postgres
class PoisonOnBrokerTests(TransactionTestCase):
    """12 poison messages queued ahead of 100 valid ones: the valid ones are applied promptly."""

    def setUp(self) -> None:
        services.require_postgres_db()

    def _run(self, url: str) -> None:
        name = f"cqrs_poison_{uuid.uuid4().hex[:8]}"
        settings = {
            "cqrs": {
                "transport": "toolkit.cqrs.transport.kombu.KombuTransport",
                "broker_url": url,
                "exchange": name,
                "queue": name,
                "retry_delay": 0.05,
                "max_retries": 2,
            }
        }
        try:
            with override_settings(TOOLKIT=settings), kombu.Connection(url) as connection:
                producer = connection.Producer()
                exchange = KombuTransport.exchange()
                queue = KombuTransport.queue()
                queue(connection.channel()).declare()
                poison = [
                    save_body(900 + n, "nul\u0000", price=float("nan")).encode()
                    if n % 2
                    else b"\xff\x00" + bytes([n])
                    for n in range(12)
                ]
                valid = [save_body(pk, f"valid {pk}").encode() for pk in range(1, 101)]
                for body in poison + valid:
                    producer.publish(
                        body,
                        exchange=exchange,
                        routing_key="product",
                        content_type="text/plain",
                        content_encoding="binary",
                        declare=[exchange, queue],
                    )
                started = time.monotonic()
                deadline = started + 60
                while time.monotonic() < deadline and ProductReplica.objects.count() < 100:
                    KombuTransport.consume(idle_timeout=0.2, stop=_stop_after(1.0))
                elapsed = time.monotonic() - started
                # Drain the retries of the poison ones.
                while time.monotonic() < deadline and CqrsDeadLetter.objects.count() < 12:
                    KombuTransport.consume(idle_timeout=0.2, stop=_stop_after(1.0))
        finally:
            _delete_broker_objects(url, name)
        assert ProductReplica.objects.count() == 100
        assert elapsed < 30, elapsed
        letters = CqrsDeadLetter.objects.order_by("id")
        assert letters.count() == 12
        assert sorted({letter.reason for letter in letters}) == ["failed", "malformed"]

    @pytest.mark.rabbitmq
    def test_poison_messages_ahead_of_valid_ones_on_rabbitmq(self) -> None:
        services.require_rabbitmq()
        self._run(services.RABBITMQ_URL)

    @pytest.mark.redis
    def test_poison_messages_ahead_of_valid_ones_on_redis(self) -> None:
        services.require_redis()
        self._run(services.REDIS_URL)


def _slow_consumer(settings: dict) -> None:
    """A consumer whose replica hangs on every message: it dies with one in flight."""
    import toolkit.cqrs.consumer as consumer_module

    connections.close_all()

    def hang(*args, **kwargs):
        time.sleep(600)

    consumer_module.try_consume = hang  # the replica is the collaborator that hangs
    with override_settings(TOOLKIT=settings):
        KombuTransport.consume()


@pytest.mark.postgres
@pytest.mark.redis
class RedisRedeliveryTests(TransactionTestCase):
    """A consumer SIGKILLed with a message in flight on Redis: the message comes back promptly
    (kombu's default visibility timeout kept it hidden for an hour)."""

    def setUp(self) -> None:
        services.require_postgres_db()
        services.require_redis()

    def test_message_in_flight_when_the_consumer_is_killed_is_redelivered_promptly(self) -> None:
        import os
        import signal

        url = services.REDIS_URL
        name = f"cqrs_kill_{uuid.uuid4().hex[:8]}"
        # max_retries * retry_delay + margin: the timeout the transport computes, made short
        # here through the documented override.
        settings = {
            "cqrs": {
                "transport": "toolkit.cqrs.transport.kombu.KombuTransport",
                "broker_url": url,
                "exchange": name,
                "queue": name,
                "retry_delay": 0,
                "visibility_timeout": 2,
            }
        }
        client = redis.Redis.from_url(url)
        try:
            with override_settings(TOOLKIT=settings), kombu.Connection(url) as connection:
                exchange, queue = KombuTransport.exchange(), KombuTransport.queue()
                queue(connection.channel()).declare()
                connections.close_all()
                child = multiprocessing.get_context("fork").Process(
                    target=_slow_consumer, args=(settings,)
                )
                child.start()
                connection.Producer().publish(
                    save_body(42, "in flight").encode(),
                    exchange=exchange,
                    routing_key="product",
                    content_type="text/plain",
                    content_encoding="utf-8",
                    declare=[exchange, queue],
                )
                deadline = time.monotonic() + 30
                while not client.hlen("unacked") and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert client.hlen("unacked"), "the consumer never took the message"
                os.kill(child.pid, signal.SIGKILL)
                child.join(10)
                killed = time.monotonic()
                while time.monotonic() < killed + 20 and not ProductReplica.objects.exists():
                    KombuTransport.consume(idle_timeout=0.2, stop=_stop_after(1.0))
                redelivered_after = time.monotonic() - killed
            assert ProductReplica.objects.get(pk=42).title == "in flight"
            assert redelivered_after < 15, redelivered_after
        finally:
            _delete_broker_objects(url, name)
            for key in ("unacked", "unacked_index"):
                client.delete(key)


def test_redis_visibility_timeout_follows_the_retry_policy():
    with override_settings(TOOLKIT={"cqrs": {"max_retries": 4, "retry_delay": 2.5}}):
        assert KombuTransport.consumer_transport_options("redis://127.0.0.1:6379/0") == {
            "visibility_timeout": 40.0,  # 4 retries * 2.5 s + the 30 s margin
            "unacked_restore_throttle": 1,
        }
        assert KombuTransport.consumer_transport_options("amqp://guest@localhost//") == {}
    with override_settings(TOOLKIT={"cqrs": {"visibility_timeout": 7}}):
        options = KombuTransport.consumer_transport_options("redis://127.0.0.1:6379/0")
        assert options["visibility_timeout"] == 7.0


def _gaps() -> list[tuple[int, int]]:
    from toolkit.cqrs.models import CqrsRevisionGap

    return list(CqrsRevisionGap.objects.order_by("expected").values_list("expected", "received"))


@pytest.mark.django_db
def test_late_revisions_after_a_redelivery_close_the_gap_instead_of_reporting_it():
    for revision in (0, 3):
        consume_body(save_body(8, f"r{revision}", revision=revision))
    assert _gaps() == [(1, 3)]
    consume_body(save_body(8, "r2", revision=2))
    assert _gaps() == [(1, 2)]
    consume_body(save_body(8, "r1", revision=1))
    assert _gaps() == []
    assert ProductReplica.objects.get(pk=8).title == "r3"


@pytest.mark.django_db
def test_a_late_revision_in_the_middle_splits_the_gap():
    for revision in (0, 5, 3):
        consume_body(save_body(9, f"r{revision}", revision=revision))
    assert _gaps() == [(1, 3), (4, 5)]
    for revision in (4, 1, 2):
        consume_body(save_body(9, f"r{revision}", revision=revision))
    assert _gaps() == []


@pytest.mark.django_db
def test_a_gap_is_reported_only_after_the_grace_period():
    from datetime import timedelta

    from django.utils import timezone

    from toolkit.cqrs.consumer import reported_gaps
    from toolkit.cqrs.status import cqrs_model_statuses

    for revision in (0, 2):
        consume_body(save_body(10, f"r{revision}", revision=revision))
    assert _gaps() == [(1, 2)]
    assert not reported_gaps().exists()
    (replica,) = [
        s for s in cqrs_model_statuses() if s.role == "replica" and s.cqrs_id == "product"
    ]
    assert replica.gaps == 0
    later = timezone.now() + timedelta(seconds=61)
    assert reported_gaps(now=later).count() == 1
    with override_settings(TOOLKIT={"cqrs": {"gap_grace_period": 0}}):
        assert reported_gaps().count() == 1
