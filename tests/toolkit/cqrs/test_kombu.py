"""The Kombu transport against the real Redis (db 14) and RabbitMQ servers.

Each test uses its own exchange and queue names and deletes them afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid
from decimal import Decimal
from unittest import mock

import kombu
import pytest
from django.test import TestCase, override_settings
from django.utils.module_loading import import_string

from demo.replication.models import Product, ProductReplica
from tests import services
from tests.toolkit.cqrs.proxy import TcpProxy
from toolkit.cqrs import consumer
from toolkit.cqrs.constants import Outcome
from toolkit.cqrs.consumer import stats
from toolkit.cqrs.models import CqrsDeadLetter, CqrsOutbox
from toolkit.cqrs.transport.kombu import KombuTransport

REDIS_URL = services.REDIS_URL
BROKERS = {
    "redis": (REDIS_URL, 6379, services.require_redis),
    "rabbitmq": (services.RABBITMQ_URL, 5672, services.require_rabbitmq),
}


KOMBU = "toolkit.cqrs.transport.kombu.KombuTransport"


def _settings(url: str, name: str, transport: str = KOMBU, **extra) -> dict:
    return {
        "cqrs": {
            "transport": transport,
            "broker_url": url,
            "exchange": name,
            "queue": name,
            "retry_delay": 0,
            **extra,
        }
    }


def _save_body(pk: int, revision: int, stock: int) -> dict:
    return {
        "signal_type": "SAVE",
        "cqrs_id": "product",
        "instance_pk": pk,
        "instance_data": {
            "id": pk,
            "sku": f"K-{pk}",
            "name": "Kettle",
            "price": "20.00",
            "stock": stock,
            "is_active": True,
            "cqrs_revision": revision,
            "cqrs_updated": "2026-01-01T00:00:00+00:00",
        },
    }


def _restart(proxy: TcpProxy) -> None:
    """Listen again on the proxy's port once the closed listener has released it."""
    deadline = time.monotonic() + 10
    while True:
        try:
            proxy.start()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class KombuBrokerMixin:
    broker: str
    transport_path = KOMBU

    def setUp(self):
        url, self.broker_port, require = BROKERS[self.broker]
        require()
        self.broker_url = url
        self.name = f"cqrs_test_{uuid.uuid4().hex[:10]}"
        self.transport = import_string(self.transport_path)
        self.settings_override = override_settings(
            TOOLKIT=_settings(url, self.name, self.transport_path)
        )
        self.settings_override.enable()
        self.addCleanup(self.settings_override.disable)
        self.addCleanup(self._delete_broker_objects)
        self.addCleanup(self.transport.clean_connection)
        with kombu.Connection(url) as connection:
            KombuTransport.queue()(connection.channel()).declare()

    def _delete_broker_objects(self):
        with (
            override_settings(TOOLKIT=_settings(self.broker_url, self.name)),
            kombu.Connection(self.broker_url) as connection,
        ):
            channel = connection.channel()
            KombuTransport.queue()(channel).delete()
            KombuTransport.exchange()(channel).delete()
        if self.broker == "redis":
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            for key in list(client.scan_iter(match=f"*{self.name}*")):
                client.delete(key)

    def publish_raw(self, body: dict | bytes, routing_key: str = "product"):
        with kombu.Connection(self.broker_url) as connection:
            connection.Producer().publish(
                body,
                exchange=KombuTransport.exchange(),
                routing_key=routing_key,
                declare=[KombuTransport.exchange()],
                serializer="json" if isinstance(body, dict) else None,
                content_type=None if isinstance(body, dict) else "application/json",
                content_encoding=None if isinstance(body, dict) else "utf-8",
            )

    def consume(self, max_messages, timeout=30, **kwargs):
        stop = threading.Event()
        timer = threading.Timer(timeout, stop.set)
        timer.start()
        try:
            handled = self.transport.consume(stop=stop, max_messages=max_messages, **kwargs)
        finally:
            timer.cancel()
        assert handled == max_messages, f"timed out after {handled} of {max_messages} messages"
        return handled

    def test_master_changes_replicate_through_the_broker(self):
        with self.captureOnCommitCallbacks(execute=True):
            products = Product.cqrs.bulk_create(
                [Product(sku=f"K-{i}", name=f"K{i}", price=Decimal(i)) for i in range(3)]
            )
        with self.captureOnCommitCallbacks(execute=True):
            Product.cqrs.bulk_update(Product.objects.filter(sku__in=["K-0", "K-1"]), stock=5)
        with self.captureOnCommitCallbacks(execute=True):
            products[2].delete()
        self.consume(max_messages=6)
        assert {r.sku: (r.stock, r.cqrs_revision) for r in ProductReplica.objects.all()} == {
            "K-0": (5, 1),
            "K-1": (5, 1),
        }

    def test_messages_published_before_any_consumer_ran_are_kept(self):
        with kombu.Connection(self.broker_url) as connection:
            KombuTransport.queue()(connection.channel()).delete()  # as on a fresh broker
        with self.captureOnCommitCallbacks(execute=True):
            product = Product.objects.create(sku="EARLY", name="Early", price=Decimal(1))
        self.consume(max_messages=1)
        assert ProductReplica.objects.get(pk=product.pk).sku == "EARLY"

    def test_a_failing_message_waits_aside_while_the_next_ones_are_applied(self):
        events: list[str] = []
        real = consumer.apply_payload

        def flaky(model, payload):
            if payload.instance_pk == 910:
                events.append("fail 910")
                raise RuntimeError("replica database busy")
            events.append(f"apply {payload.instance_pk}")
            return real(model, payload)

        self.publish_raw(_save_body(910, 0, 1))
        self.publish_raw(_save_body(911, 0, 2))
        settings = _settings(
            self.broker_url, self.name, self.transport_path, max_retries=1, retry_delay=0.5
        )
        with (
            override_settings(TOOLKIT=settings),
            mock.patch.object(consumer, "apply_payload", flaky),
        ):
            self.consume(max_messages=2)
        assert events == ["fail 910", "apply 911", "fail 910"]
        letter = CqrsDeadLetter.objects.get()
        assert (letter.reason, letter.attempts, letter.error) == (
            "failed",
            2,
            "RuntimeError: replica database busy",
        )

    def test_publishing_goes_on_after_the_broker_connection_is_lost(self):
        proxy = TcpProxy("127.0.0.1", self.broker_port)
        proxy.start()
        self.addCleanup(proxy.stop)
        proxied = self.broker_url.replace(f":{self.broker_port}", f":{proxy.port}")
        with override_settings(TOOLKIT=_settings(proxied, self.name, self.transport_path)):
            with self.captureOnCommitCallbacks(execute=True):
                Product.objects.create(sku="BEFORE", name="a", price=Decimal(1))
            proxy.stop()  # drops the producer's cached connection, as a broker restart does
            _restart(proxy)
            with self.captureOnCommitCallbacks(execute=True):
                Product.objects.create(sku="AFTER", name="b", price=Decimal(1))
        assert not CqrsOutbox.objects.exists()  # both published, nothing left pending
        self.consume(max_messages=2)
        assert sorted(ProductReplica.objects.values_list("sku", flat=True)) == ["AFTER", "BEFORE"]

    def test_a_changed_broker_url_is_used_instead_of_the_cached_connection(self):
        proxy = TcpProxy("127.0.0.1", self.broker_port)
        proxy.start()
        self.addCleanup(proxy.stop)
        proxied = self.broker_url.replace(f":{self.broker_port}", f":{proxy.port}")
        with (
            override_settings(TOOLKIT=_settings(proxied, self.name, self.transport_path)),
            self.captureOnCommitCallbacks(execute=True),
        ):
            Product.objects.create(sku="VIA-PROXY", name="a", price=Decimal(1))
        proxy.stop()  # the cached connection now points at a dead port
        with self.captureOnCommitCallbacks(execute=True):
            Product.objects.create(sku="DIRECT", name="b", price=Decimal(1))
        assert not CqrsOutbox.objects.exists()  # the second publish went to the direct URL
        self.consume(max_messages=2)
        assert sorted(ProductReplica.objects.values_list("sku", flat=True)) == [
            "DIRECT",
            "VIA-PROXY",
        ]

    def test_duplicate_and_out_of_order_deliveries_through_the_broker(self):
        for revision, stock in ((1, 10), (0, 1), (1, 10)):
            self.publish_raw(_save_body(900, revision, stock))
        self.consume(max_messages=3)
        replica = ProductReplica.objects.get(pk=900)
        assert (replica.stock, replica.cqrs_revision) == (10, 1)
        assert (stats[Outcome.APPLIED], stats[Outcome.STALE], stats[Outcome.DUPLICATE]) == (
            1,
            1,
            1,
        )

    def test_bad_messages_are_dead_lettered_and_the_consumer_goes_on(self):
        self.publish_raw(b"{broken")
        self.publish_raw({**_save_body(901, 0, 1), "cqrs_id": "invoice"}, routing_key="invoice")
        self.publish_raw(_save_body(902, 0, 2))
        self.consume(max_messages=3)
        assert sorted(CqrsDeadLetter.objects.values_list("reason", flat=True)) == [
            "malformed",
            "unknown_cqrs_id",
        ]
        assert ProductReplica.objects.get(pk=902).stock == 2

    def test_consumer_reconnects_after_the_broker_restarts(self):
        proxy = TcpProxy("127.0.0.1", self.broker_port)
        proxy.start()
        self.addCleanup(proxy.stop)
        proxied = self.broker_url.replace(f":{self.broker_port}", f":{proxy.port}")
        connected = []
        steps: list[str] = []
        stop = threading.Event()

        def wait_for(condition) -> bool:
            deadline = time.monotonic() + 20
            while not condition() and time.monotonic() < deadline:
                time.sleep(0.05)
            return condition()

        def outage():
            try:
                wait_for(lambda: connected)
                self.publish_raw(_save_body(903, 0, 1))
                steps.append(f"first applied: {wait_for(lambda: stats[Outcome.APPLIED] >= 1)}")
                proxy.stop()
                self.publish_raw(_save_body(903, 1, 2))  # waits on the broker meanwhile
                time.sleep(1.5)
                steps.append(f"connections while down: {len(connected)}")
                proxy.start()
                # At-least-once: an ack lost with the connection may redeliver the first
                # message, which the replica ignores as a duplicate; wait for the second.
                steps.append(f"second applied: {wait_for(lambda: stats[Outcome.APPLIED] >= 2)}")
            finally:
                stop.set()

        thread = threading.Thread(target=outage)
        with override_settings(TOOLKIT=_settings(proxied, self.name, self.transport_path)):
            thread.start()
            with self.assertLogs("toolkit.cqrs.kombu", "WARNING") as logs:
                self.transport.consume(
                    stop=stop,
                    on_connected=lambda: connected.append(time.monotonic()),
                    reconnect_delay=0.2,
                    reconnect_delay_max=0.5,
                )
        thread.join()
        assert steps == [
            "first applied: True",
            "connections while down: 1",
            "second applied: True",
        ]
        assert len(connected) == 2
        assert any("CQRS consumer lost the broker" in line for line in logs.output)
        replica = ProductReplica.objects.get(pk=903)
        assert (replica.stock, replica.cqrs_revision) == (2, 1)


@pytest.mark.redis
class RedisKombuTests(KombuBrokerMixin, TestCase):
    broker = "redis"


@pytest.mark.rabbitmq
class RabbitMQKombuTests(KombuBrokerMixin, TestCase):
    broker = "rabbitmq"


@pytest.mark.rabbitmq
class RabbitMQTransportTests(KombuBrokerMixin, TestCase):
    """django-cqrs' ``RabbitMQTransport`` name: the same behaviour over AMQP."""

    broker = "rabbitmq"
    transport_path = "toolkit.cqrs.transport.RabbitMQTransport"


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("amqp://guest:guest@127.0.0.1:5672//", {"confirm_publish": True}),
        ("pyamqp://guest:guest@127.0.0.1:5672//", {"confirm_publish": True}),
        ("redis://127.0.0.1:6379/14", {}),
    ],
    ids=["amqp", "pyamqp", "redis"],
)
def test_amqp_publishing_waits_for_publisher_confirms(url, options):
    assert KombuTransport.publish_transport_options(url) == options
