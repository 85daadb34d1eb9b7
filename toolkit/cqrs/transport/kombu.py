"""Kombu transport: Redis, RabbitMQ or any broker kombu speaks.

Install it with ``pip install 'django-pattern-toolkit[kombu]'``.

Masters publish to a durable topic exchange (``TOOLKIT["cqrs"]["exchange"]``) with the
CQRS_ID as routing key; each replica service consumes its own durable queue
(``TOOLKIT["cqrs"]["queue"]``), bound to the CQRS_IDs it wants (``"#"``, everything, by
default, so unknown CQRS_IDs reach the dead letters instead of vanishing).

Publishing also declares this service's replica queue, bound to the CQRS_IDs it has replica
models for, when it has any: a message published before the first ``cqrs_consume`` ran is
then kept by the broker instead of being dropped by an exchange without queues. A service
with master models only declares no queue (nobody would read it).

``consume`` acknowledges a message only after it was applied or dead-lettered, so a crash
redelivers it; it survives broker restarts by reconnecting with a capped back-off. A message
whose application fails is kept aside, unacknowledged, for ``retry_delay`` seconds while the
consumer goes on with the next messages (at most ``prefetch_count`` are in flight).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from toolkit.cqrs.constants import SignalType
from toolkit.cqrs.dataclasses import TransportPayload
from toolkit.cqrs.exceptions import TransportError
from toolkit.cqrs.transport.base import BaseTransport

try:
    import kombu as _kombu
    import ujson
    from kombu.exceptions import OperationalError
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "toolkit.cqrs.transport.kombu needs kombu and ujson: "
        "pip install 'django-pattern-toolkit[kombu]'"
    ) from exc

# kombu is untyped; treat it as such rather than scattering ignores.
kombu: Any = _kombu

logger = logging.getLogger("toolkit.cqrs.kombu")

#: How ``produce`` retries while the broker is unreachable before giving up.
PUBLISH_RETRY_POLICY: dict[str, float] = {
    "max_retries": 3,
    "interval_start": 0.2,
    "interval_step": 0.5,
    "interval_max": 2.0,
}


#: Seconds added to the longest retry window for the Redis visibility timeout.
VISIBILITY_MARGIN = 30.0

#: Seconds between two checks for broken or expired database connections in the consumer.
CONNECTION_CHECK_INTERVAL = 1.0
_last_connection_check = 0.0


def _close_old_connections(*, force: bool = False) -> None:
    """Drop broken or expired database connections (a long-running process), once a second.

    Checking before every message would, with ``CONN_MAX_AGE = 0``, reconnect to the database
    for each one. Connections inside an atomic block are left alone: closing them would break
    the surrounding transaction (tests run the consumer inside one).
    """
    global _last_connection_check
    from django.db import connections

    now = time.monotonic()
    if not force and now - _last_connection_check < CONNECTION_CHECK_INTERVAL:
        return
    _last_connection_check = now
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


#: URL schemes served by kombu's AMQP transports (RabbitMQ).
AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp", "librabbitmq"})


class KombuTransport(BaseTransport):
    """Publish and consume CQRS messages through kombu."""

    _connection: ClassVar[Any] = None
    _connection_url: ClassVar[str | None] = None
    _producer: ClassVar[Any] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()
    #: Messages the broker hands the consumer before it acknowledges any.
    prefetch_count: ClassVar[int] = 10

    @classmethod
    def broker_url(cls) -> str:
        """``TOOLKIT["cqrs"]["broker_url"]``; raise ``TransportError`` when it is empty."""
        from toolkit.cqrs.conf import cqrs_settings

        url = cqrs_settings().broker_url
        if not url:
            raise TransportError(
                f"TOOLKIT['cqrs']['broker_url'] is empty; {cls.__name__} needs a broker URL, "
                "e.g. 'redis://127.0.0.1:6379/0' or 'amqp://guest:guest@127.0.0.1:5672//'"
            )
        return url

    @classmethod
    def publish_transport_options(cls, url: str) -> dict[str, Any]:
        """Options of the publishing connection: on AMQP, publisher confirms.

        The outbox row is deleted once ``produce`` returns, so ``produce`` must not return
        before the broker has the message: AMQP's ``basic.publish`` is fire-and-forget unless
        the channel is in confirm mode (Redis answers every ``LPUSH`` anyway).
        """
        scheme = url.split("://", 1)[0].split("+", 1)[0]
        return {"confirm_publish": True} if scheme in AMQP_SCHEMES else {}

    @classmethod
    def declarations(cls) -> list[Any]:
        """What ``produce`` declares: the exchange, and this service's replica queue bound to
        its replica CQRS_IDs when it has replica models."""
        from toolkit.cqrs.registries import ReplicaRegistry

        replica_ids = ReplicaRegistry.cqrs_ids()
        return [cls.exchange(), cls.queue(replica_ids)] if replica_ids else [cls.exchange()]

    @staticmethod
    def routing_key(payload: TransportPayload) -> str:
        """django-cqrs' routing key: the CQRS_ID, or ``cqrs.<queue>.<cqrs_id>`` for a SYNC
        addressed to one replica queue."""
        if payload.signal_type is SignalType.SYNC and payload.queue:
            return f"cqrs.{payload.queue}.{payload.cqrs_id}"
        return payload.cqrs_id

    @staticmethod
    def queue_of(routing_key: Any) -> str | None:
        """The replica queue a routing key addresses (``cqrs.<queue>.<cqrs_id>``), or None."""
        if isinstance(routing_key, str) and routing_key.startswith("cqrs."):
            queue = routing_key[len("cqrs.") :].rpartition(".")[0]
            return queue or None
        return None

    @classmethod
    def consumer_transport_options(cls, url: str) -> dict[str, Any]:
        """Options of the consuming connection: on Redis, a visibility timeout that matches
        the retry policy.

        kombu's Redis transport hands an unacknowledged message to another consumer once it
        has been in flight ``visibility_timeout`` seconds (one hour by default), and only then
        after a consumer died with it. The consumer here keeps a failing message
        unacknowledged for at most ``max_retries * retry_delay`` seconds, so the timeout is
        that plus ``VISIBILITY_MARGIN`` (``TOOLKIT["cqrs"]["visibility_timeout"]`` overrides
        it): a message in flight when a consumer is killed comes back that much later, and a
        live consumer's message is never handed out twice. Restores are checked on each
        idle poll (``unacked_restore_throttle = 1``).
        """
        from toolkit.cqrs.conf import cqrs_settings

        scheme = url.split("://", 1)[0].split("+", 1)[0]
        if scheme not in {"redis", "rediss", "sentinel"}:
            return {}
        return {
            "visibility_timeout": cqrs_settings().visibility_timeout_seconds(VISIBILITY_MARGIN),
            "unacked_restore_throttle": 1,
        }

    @classmethod
    def exchange(cls) -> Any:
        """The durable topic exchange the masters publish to."""
        from toolkit.cqrs.conf import cqrs_settings

        return kombu.Exchange(cqrs_settings().exchange, type="topic", durable=True)

    @classmethod
    def queue(cls, cqrs_ids: Iterable[str] | None = None) -> Any:
        """This replica's durable queue, bound to ``cqrs_ids`` (all messages when None)."""
        from toolkit.cqrs.conf import cqrs_settings

        exchange = cls.exchange()
        name = cqrs_settings().queue
        # django-cqrs binds each CQRS_ID and ``cqrs.<queue>.<cqrs_id>`` (SYNCs addressed to
        # this queue, requeues); without ids, "#" takes everything, so unknown CQRS_IDs reach
        # the dead letters instead of vanishing.
        keys = (
            sorted({key for i in cqrs_ids for key in (i, f"cqrs.{name}.{i}")})
            if cqrs_ids
            else ["#"]
        )
        bindings = [kombu.binding(exchange, routing_key=key) for key in keys]
        return kombu.Queue(name, bindings=bindings, durable=True)

    @classmethod
    def produce(cls, payload: TransportPayload) -> None:
        """Publish ``payload`` (routing key = CQRS_ID); raise ``TransportError`` if it fails."""
        with cls._lock:
            try:
                url = cls.broker_url()
                if cls._connection is not None and cls._connection_url != url:
                    # The setting changed (override_settings, a reconfigured service): never
                    # keep publishing to the broker the cached connection was opened for.
                    cls._release()
                if cls._connection is None:
                    cls._connection = kombu.Connection(
                        url, transport_options=cls.publish_transport_options(url)
                    )
                    cls._connection_url = url
                    # One producer (one channel) per connection: a new channel per message
                    # costs a client object and a round trip on every publish.
                    cls._producer = cls._connection.Producer()
                # django-cqrs' wire format: ujson text, "text/plain", persistent.
                cls._producer.publish(
                    ujson.dumps(payload.to_dict()),
                    exchange=cls.exchange(),
                    routing_key=cls.routing_key(payload),
                    content_type="text/plain",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    declare=cls.declarations(),
                    retry=True,
                    retry_policy=PUBLISH_RETRY_POLICY,
                )
            except TransportError:
                raise
            except Exception as exc:
                cls._release()
                raise TransportError(
                    f"cannot publish {payload.cqrs_id}#{payload.instance_pk}: {exc}"
                ) from exc

    @classmethod
    def _release(cls) -> None:
        if cls._connection is not None:
            try:
                cls._connection.release()
            except Exception:  # a dead connection may fail to close; it is dropped anyway
                logger.debug("ignoring error while releasing the kombu connection")
            cls._connection = None
            cls._connection_url = None
            cls._producer = None

    @classmethod
    def clean_connection(cls, *args: Any, **kwargs: Any) -> None:
        """Close the publishing connection (the next ``produce`` opens a new one)."""
        with cls._lock:
            cls._release()

    @classmethod
    def consume(
        cls,
        cqrs_ids: Iterable[str] | None = None,
        *,
        stop: threading.Event | None = None,
        max_messages: int | None = None,
        idle_timeout: float = 0.5,
        reconnect_delay: float = 0.5,
        reconnect_delay_max: float = 5.0,
        on_connected: Callable[[], None] | None = None,
    ) -> int:
        """Consume until ``stop`` is set (or ``max_messages`` were handled); return the count.

        Broker connection losses are logged and retried with a back-off starting at
        ``reconnect_delay`` seconds and doubling up to ``reconnect_delay_max``.
        """
        from toolkit.cqrs.consumer import Retry, parse_or_dead_letter, try_consume

        stop = stop or threading.Event()
        ids = list(cqrs_ids) if cqrs_ids else None
        handled = 0
        delay = reconnect_delay
        # (due time, tie-breaker, message, payload) of failed messages waiting for a retry.
        waiting: list[tuple[float, int, Any, TransportPayload]] = []
        order = itertools.count()

        def settle(message: Any, payload: TransportPayload | None) -> None:
            nonlocal handled
            if payload is not None:
                result = try_consume(payload)
                if isinstance(result, Retry):
                    due = time.monotonic() + result.delay
                    heapq.heappush(waiting, (due, next(order), message, payload))
                    return
            message.ack()
            handled += 1
            if max_messages is not None and handled >= max_messages:
                stop.set()

        # Handling failures per message body: after ``max_retries + 1`` the message goes to
        # the dead letters instead of being requeued once more (never a loop for ever).
        failures: dict[int, int] = {}

        def guarded(message: Any, work: Callable[[], None]) -> None:
            from toolkit.cqrs.conf import cqrs_settings
            from toolkit.cqrs.constants import DeadLetterReason
            from toolkit.cqrs.consumer import dead_letter

            _close_old_connections()
            try:
                work()
            except Exception as exc:
                # Not bad input (that is dead-lettered): e.g. the database is down. Keep the
                # message on the broker and slow down instead of spinning, a bounded number
                # of times.
                _close_old_connections(force=True)
                key = hash(
                    bytes(message.body)
                    if isinstance(message.body, bytes | bytearray)
                    else str(message.body)
                )
                failures[key] = failures.get(key, 0) + 1
                if failures[key] > cqrs_settings().max_retries:
                    try:
                        dead_letter(
                            message.body,
                            DeadLetterReason.FAILED,
                            f"handling failed {failures[key]} times: {type(exc).__name__}: {exc}",
                            attempts=failures[key],
                        )
                    except Exception:
                        logger.exception("CQRS message could not be dead-lettered; requeued")
                    else:
                        failures.pop(key, None)
                        message.ack()
                        return
                logger.exception("CQRS message could not be handled; requeued")
                message.requeue()
                stop.wait(reconnect_delay)

        def parse(message: Any) -> TransportPayload | None:
            payload = parse_or_dead_letter(message.body)
            if payload is not None and payload.queue is None:
                # django-cqrs does not put the queue in the body: a SYNC for one replica
                # queue says so in its routing key.
                payload.queue = cls.queue_of(message.delivery_info.get("routing_key"))
            return payload

        def on_message(message: Any) -> None:
            guarded(message, lambda: settle(message, parse(message)))

        def retry_due() -> None:
            now = time.monotonic()
            while waiting and waiting[0][0] <= now and not stop.is_set():
                _, _, message, payload = heapq.heappop(waiting)
                guarded(message, functools.partial(settle, message, payload))

        def requeue_waiting() -> None:
            while waiting:
                message = heapq.heappop(waiting)[2]
                try:
                    message.requeue()
                except Exception:  # the connection is gone: the broker redelivers anyway
                    logger.debug("ignoring error while requeueing a waiting message")

        url = cls.broker_url()
        while not stop.is_set():
            connection = kombu.Connection(
                url, transport_options=cls.consumer_transport_options(url)
            )
            try:
                connection.ensure_connection(max_retries=1)
                with connection.Consumer(
                    [cls.queue(ids)], on_message=on_message, prefetch_count=cls.prefetch_count
                ):
                    logger.info("CQRS consumer connected to %s", connection.as_uri())
                    delay = reconnect_delay
                    if on_connected is not None:
                        on_connected()
                    try:
                        while not stop.is_set():
                            timeout = idle_timeout
                            if waiting:
                                timeout = min(timeout, max(waiting[0][0] - time.monotonic(), 0))
                            try:
                                connection.drain_events(timeout=max(timeout, 0.001))
                            except TimeoutError:
                                pass
                            retry_due()
                    finally:
                        requeue_waiting()
            except (
                OperationalError,
                OSError,
                *connection.connection_errors,
                *connection.channel_errors,
            ) as exc:
                if stop.is_set():
                    break
                logger.warning(
                    "CQRS consumer lost the broker (%s: %s); reconnecting in %.1fs",
                    type(exc).__name__,
                    exc,
                    delay,
                )
                stop.wait(delay)
                delay = min(delay * 2, reconnect_delay_max)
            finally:
                try:
                    connection.release()
                except Exception:
                    logger.debug("ignoring error while releasing the consumer connection")
        return handled


def _forget_connection_in_child() -> None:
    """After ``fork()`` the child must not write on the parent's broker socket.

    The publishing connection is class state, so a forked worker (gunicorn, multiprocessing)
    would share it with its parent and interleave frames on one socket. The child drops it
    without closing it (the socket belongs to the parent) and opens its own on first use.
    """
    KombuTransport._connection = None
    KombuTransport._connection_url = None
    KombuTransport._producer = None
    KombuTransport._lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_forget_connection_in_child)
