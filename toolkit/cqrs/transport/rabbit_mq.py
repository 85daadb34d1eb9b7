"""RabbitMQ transport: ``KombuTransport`` restricted to AMQP URLs (django-cqrs' name for it).

``toolkit.cqrs.transport.RabbitMQTransport`` is the class django-cqrs users set as
``'dj_cqrs.transport.RabbitMQTransport'``. It speaks AMQP 0-9-1 through kombu's ``py-amqp``
client (no pika needed) and refuses any other broker URL at once, with the URL in the error,
instead of silently talking to Redis.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlsplit

from toolkit.cqrs.exceptions import TransportError
from toolkit.cqrs.transport.kombu import KombuTransport


class RabbitMQTransport(KombuTransport):
    """Publish and consume CQRS messages through RabbitMQ (``amqp://`` or ``amqps://``)."""

    #: URL schemes accepted in ``TOOLKIT["cqrs"]["broker_url"]``.
    schemes: ClassVar[tuple[str, ...]] = ("amqp", "amqps", "pyamqp")

    @classmethod
    def broker_url(cls) -> str:
        """The configured broker URL; raise ``TransportError`` unless it is an AMQP URL."""
        url = super().broker_url()
        scheme = urlsplit(url).scheme
        if scheme not in cls.schemes:
            valid = ", ".join(repr(s) for s in sorted(cls.schemes))
            raise TransportError(
                f"RabbitMQTransport needs an AMQP broker URL, not {url!r} (scheme {scheme!r}); "
                f"valid schemes: {valid}"
            )
        return url
