"""In-process transport: the default, for the demo and tests (master and replica in one process).

``produce`` appends the JSON-encoded message to a process-wide queue and, unless delivery is
held, consumes it at once. ``hold()`` keeps messages queued so tests can reorder, duplicate or
drop them before calling ``consume()``.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder

from toolkit.cqrs.dataclasses import TransportPayload
from toolkit.cqrs.transport.base import BaseTransport


class InProcessTransport(BaseTransport):
    """Deliver messages to the replicas of the same process."""

    _queue: ClassVar[deque[str]] = deque()
    _lock: ClassVar[threading.RLock] = threading.RLock()
    _held: ClassVar[int] = 0
    _draining: ClassVar[bool] = False

    @classmethod
    def produce(cls, payload: TransportPayload) -> None:
        """Queue the message, then deliver it now unless delivery is held."""
        body = json.dumps(payload.to_stored(), cls=DjangoJSONEncoder)
        with cls._lock:
            cls._queue.append(body)
            deliver = not cls._held and not cls._draining
        if deliver:
            cls.consume()

    @classmethod
    def consume(cls, cqrs_ids: Iterable[str] | None = None, **kwargs: Any) -> int:
        """Apply every queued message (of ``cqrs_ids`` only, if given); return the count."""
        from toolkit.cqrs.consumer import consume_body

        wanted = set(cqrs_ids) if cqrs_ids is not None else None
        handled = 0
        with cls._lock:
            cls._draining = True
            try:
                kept: deque[str] = deque()
                while cls._queue:
                    body = cls._queue.popleft()
                    if wanted is not None and json.loads(body).get("cqrs_id") not in wanted:
                        kept.append(body)
                        continue
                    consume_body(body, **kwargs)
                    handled += 1
                cls._queue.extend(kept)
            finally:
                cls._draining = False
        return handled

    @classmethod
    def clean_connection(cls, *args: Any, **kwargs: Any) -> None:
        """Forget every queued message."""
        with cls._lock:
            cls._queue.clear()
            cls._held = 0

    @classmethod
    @contextmanager
    def hold(cls) -> Iterator[deque[str]]:
        """Queue produced messages without delivering them; yields the queue (JSON strings)."""
        with cls._lock:
            cls._held += 1
        try:
            yield cls._queue
        finally:
            with cls._lock:
                cls._held -= 1

    @classmethod
    def pending(cls) -> list[dict[str, Any]]:
        """The queued messages, decoded, oldest first."""
        with cls._lock:
            return [json.loads(body) for body in cls._queue]
