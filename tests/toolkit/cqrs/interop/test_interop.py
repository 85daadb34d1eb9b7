"""Interoperability with the real django-cqrs 3.1.0 over the real RabbitMQ.

The django-cqrs side runs in a subprocess (``peer/run.py``) with its own settings module
(``dj_cqrs`` installed, ``CQRS = {...}``) and its own SQLite file: both packages read
``settings.CQRS`` and register models under the same CQRS_IDs, so they cannot share a process.

django-cqrs' ``RabbitMQTransport`` ignores the virtual host of ``CQRS["url"]`` (pika's default
``/`` is used), so these tests use the default vhost with an exchange and queues named for the
test, deleted afterwards.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import kombu
import pytest
from django.core.management import call_command
from django.db.models import F
from django.test import TransactionTestCase, override_settings

from demo.replication.models import Customer, Product, ProductReplica
from tests import services
from toolkit.cqrs.transport.rabbit_mq import RabbitMQTransport

ROOT = Path(__file__).resolve().parents[4]
pytestmark = pytest.mark.rabbitmq


def _default_vhost_url() -> str:
    parts = urlsplit(services.RABBITMQ_URL)
    return f"amqp://{parts.netloc}//"


class Peer:
    """One django-cqrs service: its settings, its database file, its queue."""

    def __init__(self, tmp: Path, exchange: str, queue: str) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.toolkit.cqrs.interop.peer_settings",
            "CQRS_PEER_DB": str(tmp / f"{queue}.sqlite3"),
            "CQRS_PEER_URL": _default_vhost_url(),
            "CQRS_PEER_EXCHANGE": exchange,
            "CQRS_PEER_QUEUE": queue,
            "PYTHONUNBUFFERED": "1",
        }
        self.log = tmp / "peer-stderr.log"
        self.run("setup")

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tests.toolkit.cqrs.interop.peer.run", *args]

    def run(self, *args: str, stdin: str = "") -> str:
        done = subprocess.run(
            self.command(*args),
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            self.log.write_text(done.stderr)  # the whole log, for a failed run
        assert done.returncode == 0, (args, done.stdout, done.stderr[-3000:])
        return done.stdout


def _our_settings(exchange: str, queue: str) -> dict:
    return {
        "cqrs": {
            "transport": "toolkit.cqrs.transport.rabbit_mq.RabbitMQTransport",
            "broker_url": _default_vhost_url(),
            "exchange": exchange,
            "queue": queue,
            "retry_delay": 0.1,
        }
    }


def _delete(exchange: str, *queues: str) -> None:
    RabbitMQTransport.clean_connection()
    with kombu.Connection(_default_vhost_url()) as connection:
        channel = connection.channel()
        for queue in queues:
            kombu.Queue(queue)(channel).delete()
        kombu.Exchange(exchange)(channel).delete()


class InteropTests(TransactionTestCase):
    def setUp(self) -> None:
        services.require_rabbitmq()
        name = uuid.uuid4().hex[:8]
        self.exchange = f"cqrs_interop_{name}"
        self.peer_queue = f"peer_{name}"
        self.our_queue = f"ours_{name}"
        tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"cqrs_interop_{name}"
        tmp.mkdir(parents=True, exist_ok=True)
        self.peer = Peer(tmp, self.exchange, self.peer_queue)

    def tearDown(self) -> None:
        _delete(self.exchange, self.peer_queue, f"dead_letter_{self.peer_queue}", self.our_queue)

    def test_our_master_feeds_a_django_cqrs_replica_until_equal(self) -> None:
        assert self.peer.run("declare").strip() == "declared"
        with override_settings(TOOLKIT=_our_settings(self.exchange, self.our_queue)):
            lamp = Product.objects.create(sku="L", name="Lamp", price=Decimal("9.50"), stock=3)
            desk = Product.objects.create(sku="D", name="Desk", price=Decimal("120"), stock=1)
            gone = Product.objects.create(sku="G", name="Gone", price=Decimal("1"), stock=1)
            lamp.name = "Lamp XL"
            lamp.save()
            desk.stock = F("stock") + 10
            desk.save()
            gone.delete()
            Product.cqrs.bulk_create(
                [Product(id=100 + n, sku=f"B{n}", name=f"Bulk {n}", price=n) for n in range(3)]
            )
            Product.cqrs.bulk_update(Product.objects.filter(sku__startswith="B"), stock=7)
            Product.objects.get(pk=100).cqrs_sync()
            ann = Customer.objects.create(first_name="Ann", last_name="Lee", email="a@x.io")
            ann.tier, ann.email = "gold", "ann@x.io"
            ann.save()
        expected_products = [
            {
                "id": p.pk,
                "sku": p.sku,
                "name": p.name,
                "price": str(p.price),
                "stock": p.stock,
                "is_active": p.is_active,
                "cqrs_revision": p.cqrs_revision,
                # django-cqrs' previous_data is only sent for tracked fields; Product has none.
                "previous_name": "",
            }
            for p in Product.objects.order_by("id")
        ]
        ann.refresh_from_db()
        expected = {
            "product": expected_products,
            "customer": [
                {
                    "id": ann.pk,
                    "full_name": "Ann Lee",
                    "email": "ann@x.io",
                    "tier": "gold",
                    "previous_tier": "standard",  # tracked fields, as django-cqrs sends them
                    "previous_email": "a@x.io",
                    "cqrs_revision": 1,
                }
            ],
        }
        out = self.peer.run("consume", "60", stdin=json.dumps(expected))
        assert json.loads(out) == expected

    def test_a_django_cqrs_master_feeds_our_replica_until_equal(self) -> None:
        settings = _our_settings(self.exchange, self.our_queue)
        with override_settings(TOOLKIT=settings):
            with kombu.Connection(_default_vhost_url()) as connection:
                RabbitMQTransport.queue(["product"])(connection.channel()).declare()
            master_rows = json.loads(self.peer.run("master"))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                RabbitMQTransport.consume(["product"], idle_timeout=0.3, stop=_stop_after(1.0))
                if _our_rows() == master_rows:
                    break
        assert _our_rows() == master_rows
        assert [r["sku"] for r in master_rows] == ["P-1", "P-2", "B-0", "B-1", "B-2"]
        assert master_rows[1]["stock"] == 11  # the F() update arrived refreshed

    def test_our_diff_master_feeds_django_cqrs_diff_replica_and_our_diff_sync_repairs_it(
        self,
    ) -> None:
        settings = _our_settings(self.exchange, self.our_queue)
        with override_settings(TOOLKIT=settings):
            # Published before the django-cqrs replica's queue exists: it never sees them.
            made = [
                Product.objects.create(sku=f"S{n}", name=f"Stale {n}", price=Decimal("2.5"))
                for n in range(3)
            ]
            assert self.peer.run("declare").strip() == "declared"
            master_out = io.StringIO()
            call_command("cqrs_diff_master", "--cqrs-id=product", stdout=master_out)
            replica = subprocess.run(
                [sys.executable, "-m", "django", "cqrs_diff_replica"],
                cwd=ROOT,
                env=self.peer.env,
                input=master_out.getvalue(),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert replica.returncode == 0, replica.stderr
            header, *lines = replica.stdout.splitlines()
            assert header == f"{master_out.getvalue().splitlines()[0]},{self.peer_queue}"
            assert [sorted(json.loads(line)) for line in lines] == [[p.pk for p in made]]
            sync_out = io.StringIO()
            with mock.patch("sys.stdin", io.StringIO(replica.stdout)):
                call_command("cqrs_diff_sync", stdout=sync_out)
            assert sync_out.getvalue() == "Done!\n3 instance(s) synced.\n3 instance(s) processed.\n"
        expected = {
            "product": [
                {
                    "id": p.pk,
                    "sku": p.sku,
                    "name": p.name,
                    "price": "2.50",
                    "stock": 0,
                    "is_active": True,
                    "cqrs_revision": 0,
                    "previous_name": "",
                }
                for p in made
            ]
        }
        out = self.peer.run("consume", "60", stdin=json.dumps(expected))
        assert json.loads(out)["product"] == expected["product"]


def _our_rows() -> list[dict]:
    return [
        {
            "id": r.pk,
            "sku": r.sku,
            "name": r.title,
            "price": str(r.price),
            "stock": r.stock,
            "is_active": r.is_active,
            "cqrs_revision": r.cqrs_revision,
        }
        for r in ProductReplica.objects.order_by("id")
    ]


def _stop_after(seconds: float):
    import threading

    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.daemon = True
    timer.start()
    return stop
