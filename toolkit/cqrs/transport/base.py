"""The transport contract."""

from __future__ import annotations

from typing import Any

from toolkit.cqrs.dataclasses import TransportPayload


class BaseTransport:
    """CQRS can be implemented over any transport; all transports inherit from this class.

    The transport is set in Django settings::

        TOOLKIT = {"cqrs": {"transport": "toolkit.cqrs.transport.kombu.KombuTransport"}}
    """

    @classmethod
    def produce(cls, payload: TransportPayload) -> None:
        """Send ``payload`` from the master model to the replicas, or raise."""
        raise NotImplementedError

    @classmethod
    def consume(cls, *args: Any, **kwargs: Any) -> int | None:
        """Receive messages for the replicas and apply them.

        ``cqrs_consume`` calls it as django-cqrs does, ``consume()`` or
        ``consume(cqrs_ids={...})``, adding ``stop``, ``max_messages`` and ``on_connected`` only
        when the method names them; the toolkit's transports return how many were handled.
        """
        raise NotImplementedError

    @classmethod
    def clean_connection(cls, *args: Any, **kwargs: Any) -> None:
        """Close every connection the transport holds."""
        raise NotImplementedError
