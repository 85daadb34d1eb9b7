"""Transports carry ``TransportPayload`` messages from masters to replicas.

``TOOLKIT["cqrs"]["transport"]`` names the class; :func:`get_transport` returns it. As in
django-cqrs, ``KombuTransport`` and ``RabbitMQTransport`` can be imported from this package;
they are loaded on first access, so importing the package does not need kombu.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

from toolkit.cqrs.transport.base import BaseTransport

if TYPE_CHECKING:
    from toolkit.cqrs.transport.inprocess import InProcessTransport
    from toolkit.cqrs.transport.kombu import KombuTransport
    from toolkit.cqrs.transport.rabbit_mq import RabbitMQTransport

__all__ = [
    "BaseTransport",
    "InProcessTransport",
    "KombuTransport",
    "RabbitMQTransport",
    "get_transport",
]

_LAZY = {
    "InProcessTransport": "toolkit.cqrs.transport.inprocess.InProcessTransport",
    "KombuTransport": "toolkit.cqrs.transport.kombu.KombuTransport",
    "RabbitMQTransport": "toolkit.cqrs.transport.rabbit_mq.RabbitMQTransport",
}


def __getattr__(name: str) -> Any:
    # Lazy so that the optional kombu extra is imported only by projects that use it.
    if name in _LAZY:
        return import_string(_LAZY[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_transport() -> type[BaseTransport]:
    """The transport class configured in ``TOOLKIT["cqrs"]["transport"]``."""
    from toolkit.cqrs.conf import cqrs_settings
    from toolkit.cqrs.exceptions import TransportError

    path = cqrs_settings().transport
    try:
        transport = import_string(path)
    except ImportError as exc:
        raise TransportError(
            f"TOOLKIT['cqrs']['transport'] {path!r} cannot be imported: {exc}"
        ) from exc
    if not (isinstance(transport, type) and issubclass(transport, BaseTransport)):
        raise TransportError(
            f"TOOLKIT['cqrs']['transport'] {path!r} is not a BaseTransport subclass"
        )
    return transport
