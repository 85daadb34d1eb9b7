"""The transactional outbox relay: publish outbox rows to a broker, at least once.

With ``TOOLKIT["outbox"]["enabled"]`` every append writes one row per event to
``toolkit_outbox`` in the append's transaction (:class:`~toolkit.models.OutboxEvent`, in the
column layout of Debezium's outbox event router). A Debezium connector can read that table
directly (docs/outbox.md); for teams without Kafka, :class:`OutboxRelay` (``manage.py
relay_outbox``) publishes the rows through kombu:

- a batch claims the oldest rows with ``SELECT ... FOR UPDATE SKIP LOCKED``, so any number of
  relays share the table without waiting for each other;
- each row goes to the topic ``exchange`` with the aggregate type as routing key and the row
  as a JSON body; the message id and the ``event_id`` header are the event id, so consumers
  can deduplicate;
- the rows are deleted in the claiming transaction **after** the broker confirmed every
  publish (RabbitMQ publisher confirms; a Redis ``LPUSH`` that returned). A relay that dies
  before its commit leaves the rows locked only until the server drops its connection; another
  relay publishes them again: at least once, never lost;
- on PostgreSQL a trigger sends ``NOTIFY toolkit_outbox`` when rows are inserted, and idle
  relays ``LISTEN`` instead of sleeping; on SQLite they poll.

Install the broker client with ``pip install 'django-pattern-toolkit[kombu]'``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from toolkit.core.compat import optional_import

if TYPE_CHECKING:
    from toolkit.models import OutboxEvent

logger = logging.getLogger("toolkit.outbox")

#: The PostgreSQL channel the outbox trigger notifies.
NOTIFY_CHANNEL = "toolkit_outbox"


class Publisher(Protocol):
    """Where relayed rows go: ``publish`` returns only once the broker has the message."""

    def publish(self, body: dict[str, Any], *, routing_key: str, message_id: str) -> None:
        """Publish one message and wait for the broker's confirmation (raise if refused)."""

    def close(self) -> None:
        """Release the broker connection."""


def row_message(row: OutboxEvent) -> dict[str, Any]:
    """The JSON body of one outbox row: its columns, as Debezium would carry them."""
    return {
        "id": str(row.id),
        "aggregatetype": row.aggregatetype,
        "aggregateid": row.aggregateid,
        "type": row.type,
        "payload": row.payload,
        "timestamp": row.timestamp.isoformat(),
        "headers": row.headers,
        "position": row.position,
    }


class KombuPublisher:
    """Publishes to a durable topic exchange through kombu, with publisher confirms on AMQP.

    ``confirm_publish`` makes ``Producer.publish`` wait for RabbitMQ's ack (and raise on a
    nack); Redis has no confirms, but its publish returns only after the server stored the
    message.
    """

    def __init__(self, broker_url: str, exchange: str) -> None:
        try:
            import kombu as untyped_kombu
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "relay_outbox needs kombu: pip install 'django-pattern-toolkit[kombu]'"
            ) from exc
        # kombu is untyped; treat it as such rather than scattering ignores.
        kombu: Any = untyped_kombu
        self.connection: Any = kombu.Connection(
            broker_url, transport_options={"confirm_publish": True}
        )
        self.exchange: Any = kombu.Exchange(exchange, type="topic", durable=True)
        self.producer: Any = kombu.Producer(self.connection.channel(), exchange=self.exchange)
        self.exchange.declare(channel=self.producer.channel)

    def publish(self, body: dict[str, Any], *, routing_key: str, message_id: str) -> None:
        self.producer.publish(
            body,
            routing_key=routing_key,
            serializer="json",
            delivery_mode=2,
            message_id=message_id,
            headers={"event_id": message_id},
        )

    def close(self) -> None:
        self.connection.release()


@dataclass
class OutboxRelay:
    """Publishes outbox rows, a batch per transaction, deleting each batch once confirmed.

    .. code-block:: python

        relay = OutboxRelay(KombuPublisher("amqp://...", "toolkit.events"))
        while not stopping:
            if not relay.relay_batch():
                relay.wait(timeout=1.0)
    """

    publisher: Publisher
    batch_size: int = 100
    using: str = "default"
    on_published: Callable[[Sequence[OutboxEvent]], None] | None = None
    _listening: Any = field(default=None, init=False, repr=False)

    def relay_batch(self) -> int:
        """Claim up to ``batch_size`` rows (skipping rows other relays hold), publish them in
        position order, delete them; return how many were published."""
        from django.db import transaction

        from toolkit.models import OutboxEvent

        with transaction.atomic(using=self.using):
            rows = list(
                OutboxEvent.objects.using(self.using)
                .select_for_update(skip_locked=True)
                .order_by("position", "id")[: self.batch_size]
            )
            if not rows:
                return 0
            for row in rows:
                self.publisher.publish(
                    row_message(row), routing_key=row.aggregatetype, message_id=str(row.id)
                )
            OutboxEvent.objects.using(self.using).filter(pk__in=[r.pk for r in rows]).delete()
        if self.on_published is not None:
            self.on_published(rows)
        return len(rows)

    def wait(self, timeout: float) -> None:
        """Sleep until rows may have arrived: a ``NOTIFY`` on PostgreSQL, or ``timeout``."""
        listener = self._listener()
        if listener is None:
            time.sleep(timeout)
            return
        for _ in listener.notifies(timeout=timeout, stop_after=1):
            pass

    def _listener(self) -> Any:
        """A separate autocommit psycopg connection that LISTENs (None off PostgreSQL)."""
        if self._listening is not None:
            return self._listening
        from django.db import connections

        connection = connections[self.using]
        if connection.vendor != "postgresql":
            return None
        psycopg = optional_import("psycopg", extra="postgres", install="psycopg[binary]")

        listener = psycopg.connect(**connection.get_connection_params(), autocommit=True)
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self._listening = listener
        return listener

    def close(self) -> None:
        """Close the listening connection and the publisher."""
        if self._listening is not None:
            self._listening.close()
            self._listening = None
        self.publisher.close()


def pending_count(using: str = "default") -> int:
    """Rows waiting in the outbox."""
    from toolkit.models import OutboxEvent

    return OutboxEvent.objects.using(using).count()


def outbox_settings() -> dict[str, Any]:
    """``TOOLKIT["outbox"]`` merged over its defaults."""
    from toolkit.conf import toolkit_settings

    return dict(toolkit_settings.outbox)
