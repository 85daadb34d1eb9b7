"""Transports carry ``TransportPayload`` messages from masters to replicas.

``TOOLKIT["cqrs"]["transport"]`` names the class; :func:`get_transport` returns it.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

from toolkit.cqrs.transport.base import BaseTransport

__all__ = ["BaseTransport", "get_transport"]


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
