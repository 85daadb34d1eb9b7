"""Outbox relay throughput vs raw kombu publishing of the same messages, on RabbitMQ.

Run: ``python -m bench.outbox [--events 3000] [--broker amqp://guest:guest@127.0.0.1:5672//]``
(``DATABASE_URL`` picks the database: a temporary SQLite file by default).

Toolkit path: ``--events`` appends with the outbox on, then :class:`OutboxRelay` with a
:class:`KombuPublisher` (publisher confirms) drains the table in batches of 100: claim with
``SKIP LOCKED``, publish each row, wait for the confirms, delete, commit. Figure: rows per
second from the first claim to the empty table.

Floor, same run, same broker: the same JSON bodies published with a raw kombu ``Producer`` on a
confirming channel (so both wait for the broker's acks), no database. The ratio says what
claiming and deleting the rows costs over moving the bytes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from typing import Any


def _setup() -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _raw_floor(url: str, exchange_name: str, bodies: list[dict[str, Any]]) -> float:
    import kombu

    with kombu.Connection(url, transport_options={"confirm_publish": True}) as connection:
        exchange = kombu.Exchange(exchange_name, type="topic", durable=True)
        producer = kombu.Producer(connection.channel(), exchange=exchange)
        exchange.declare(channel=producer.channel)
        start = time.perf_counter()
        for body in bodies:
            producer.publish(
                body,
                routing_key=body["aggregatetype"],
                serializer="json",
                delivery_mode=2,
                message_id=body["id"],
                headers={"event_id": body["id"]},
            )
        elapsed = time.perf_counter() - start
        producer.channel.exchange_delete(exchange_name)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//")
    args = parser.parse_args()
    _setup()
    from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
    from toolkit.eventsourcing.event_store import EventStore
    from toolkit.eventsourcing.outbox import KombuPublisher, OutboxRelay, row_message
    from toolkit.models import OutboxEvent

    OutboxEvent.objects.all().delete()
    store = EventStore(DjangoEventStoreBackend(outbox=True))
    for i in range(args.events):
        store.append(f"o{i % 100}", "Order", "OrderPlaced", {"i": i, "total": "12.50"})
    bodies = [row_message(row) for row in OutboxEvent.objects.order_by("position")]
    exchange = f"bench.outbox.{uuid.uuid4().hex[:8]}"
    relay = OutboxRelay(KombuPublisher(args.broker, exchange), batch_size=100)
    start = time.perf_counter()
    while relay.relay_batch():
        pass
    toolkit = args.events / (time.perf_counter() - start)
    relay.close()
    floor = args.events / _raw_floor(args.broker, f"{exchange}.raw", bodies)
    print(f"{args.events} events over RabbitMQ with publisher confirms (machine shared and noisy)")
    print(f"raw kombu publish (floor): {floor:8.0f} messages/s")
    print(f"relay_outbox:              {toolkit:8.0f} events/s   {toolkit / floor:5.2f}x the floor")


if __name__ == "__main__":
    main()
