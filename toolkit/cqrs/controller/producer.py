"""django-cqrs' ``dj_cqrs.controller.producer``."""

from __future__ import annotations

from toolkit.cqrs.dataclasses import TransportPayload


def produce(payload: TransportPayload) -> None:
    """Producer controller: send ``payload`` through the configured transport now.

    As in django-cqrs this is the transport call itself; the models publish through the
    outbox instead (after commit, kept on a broker outage), which calls the transport the same
    way.
    """
    from toolkit.cqrs.transport import get_transport

    get_transport().produce(payload)
