"""Replicated instances per second through ``KombuTransport`` + Redis vs raw kombu.

Run: ``python -m bench.cqrs [--n 2000] [--rounds 3] [--broker redis://127.0.0.1:6379/14]``.

Toolkit path, per round: ``Product.cqrs.bulk_create(n)`` in one transaction (outbox rows
written in it, one message per instance published after commit), then ``KombuTransport.consume``
applies every message to ``ProductReplica`` (revision check + upsert + revision row); then the
same for ``Product.cqrs.bulk_update`` of those ``n`` rows. The figure is instances per second
from the start of the write to the last replica row applied.

Floor, same run, same broker: the very payloads the toolkit sent, published with a raw kombu
``Producer`` to a queue and consumed with a raw ``Consumer`` that only decodes and acks (no
database). The ratio says what the replication guarantees cost over moving the bytes.
SQLite in a temporary file holds master and replica. Each figure is the best round.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from decimal import Decimal
from typing import Any

#: `make bench` (python -m bench): smaller rounds keep the run short.
MAKE_BENCH_ARGS = ["--n", "500", "--rounds", "3"]


def _setup(db_path: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _raw_floor(url: str, payloads: list[dict[str, Any]], name: str) -> float:
    """Seconds to publish ``payloads`` with raw kombu and consume them all (decode + ack)."""
    import kombu

    exchange = kombu.Exchange(f"{name}_raw", type="topic", durable=True)
    queue = kombu.Queue(
        f"{name}_raw", bindings=[kombu.binding(exchange, routing_key="#")], durable=True
    )
    received = 0
    with kombu.Connection(url) as connection:
        queue(connection.channel()).declare()
        start = time.perf_counter()
        producer = connection.Producer()
        for payload in payloads:
            producer.publish(
                payload,
                exchange=exchange,
                routing_key=payload["cqrs_id"],
                serializer="json",
                delivery_mode=2,
                declare=[exchange],
            )

        def on_message(message: Any) -> None:
            nonlocal received
            message.decode()
            message.ack()
            received += 1

        with connection.Consumer([queue], on_message=on_message, prefetch_count=10):
            while received < len(payloads):
                connection.drain_events(timeout=10)
        elapsed = time.perf_counter() - start
        channel = connection.channel()
        queue(channel).delete()
        exchange(channel).delete()
    return elapsed


def _toolkit_round(n: int, tag: str, payloads: list[dict[str, Any]]) -> tuple[float, float]:
    """Seconds to replicate ``n`` creates, then ``n`` updates, through the toolkit."""
    from django.db import transaction

    from demo.replication.models import Product
    from toolkit.cqrs.transport.kombu import KombuTransport

    captured: list[dict[str, Any]] = []
    original = KombuTransport.produce.__func__  # type: ignore[attr-defined]

    def recording_produce(cls: Any, payload: Any) -> None:
        captured.append(payload.to_dict())
        original(cls, payload)

    KombuTransport.produce = classmethod(recording_produce)  # type: ignore[method-assign,assignment]
    try:
        objs = [
            Product(sku=f"{tag}-{i}", name=f"Item {i}", price=Decimal("9.99"), stock=i)
            for i in range(n)
        ]
        start = time.perf_counter()
        with transaction.atomic():
            Product.cqrs.bulk_create(objs)
        assert KombuTransport.consume(max_messages=n) == n
        create = time.perf_counter() - start
        start = time.perf_counter()
        with transaction.atomic():
            Product.cqrs.bulk_update(Product.objects.filter(sku__startswith=f"{tag}-"), stock=1)
        assert KombuTransport.consume(max_messages=n) == n
        update = time.perf_counter() - start
    finally:
        KombuTransport.produce = classmethod(original)  # type: ignore[method-assign,assignment]
    payloads[:] = captured[:n]
    return create, update


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="instances per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    _setup(os.path.join(tmp.name, "bench.sqlite3"))
    from django.test.utils import override_settings

    from demo.replication.models import ProductReplica
    from toolkit.cqrs.transport.kombu import KombuTransport

    name = f"cqrs_bench_{uuid.uuid4().hex[:8]}"
    override = override_settings(
        TOOLKIT={
            "cqrs": {
                "transport": "toolkit.cqrs.transport.kombu.KombuTransport",
                "broker_url": args.broker,
                "exchange": name,
                "queue": name,
            }
        }
    )
    override.enable()
    import kombu

    with kombu.Connection(args.broker) as connection:
        KombuTransport.queue()(connection.channel()).declare()
    creates, updates, floors = [], [], []
    try:
        for round_no in range(args.rounds):
            payloads: list[dict[str, Any]] = []
            create, update = _toolkit_round(args.n, f"r{round_no}", payloads)
            creates.append(create)
            updates.append(update)
            floors.append(_raw_floor(args.broker, payloads, name))
        assert ProductReplica.objects.count() == args.n * args.rounds
    finally:
        with kombu.Connection(args.broker) as connection:
            channel = connection.channel()
            KombuTransport.queue()(channel).delete()
            KombuTransport.exchange()(channel).delete()
        KombuTransport.clean_connection()
        if args.broker.startswith("redis"):
            import redis

            client = redis.Redis.from_url(args.broker)
            for key in list(client.scan_iter(match=f"*{name}*")):
                client.delete(key)
        override.disable()
        tmp.cleanup()
    n = args.n
    floor = n / min(floors)
    create_rate = n / min(creates)
    update_rate = n / min(updates)
    print(f"broker {args.broker}, {n} instances per round, best of {args.rounds} rounds")
    print(f"{'path':<46} {'inst/s':>10} {'vs floor':>9}")
    print(f"{'raw kombu publish + consume (floor)':<46} {floor:>10,.0f} {1.0:>8.2f}x")
    print(
        f"{'toolkit bulk_create -> replica applied':<46} {create_rate:>10,.0f} "
        f"{create_rate / floor:>8.2f}x"
    )
    print(
        f"{'toolkit bulk_update -> replica applied':<46} {update_rate:>10,.0f} "
        f"{update_rate / floor:>8.2f}x"
    )


if __name__ == "__main__":
    main()
