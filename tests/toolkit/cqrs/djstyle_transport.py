"""A transport written as django-cqrs users write them (``dj_cqrs.transport.BaseTransport``'s
contract: ``consume(cqrs_ids=None)`` blocks until interrupted; ``clean_connection`` left to the
base class), for ``cqrs_consume`` to drive unchanged."""

from __future__ import annotations

import time

from toolkit.cqrs.transport.base import BaseTransport


class DjangoCqrsStyleTransport(BaseTransport):
    @staticmethod
    def produce(payload):  # type: ignore[no-untyped-def,override]
        raise NotImplementedError("a consumer-only transport")

    @classmethod
    def consume(cls, cqrs_ids=None):  # type: ignore[no-untyped-def,override]
        print(f"consume(cqrs_ids={sorted(cqrs_ids) if cqrs_ids else cqrs_ids})", flush=True)
        while True:  # as django-cqrs' RabbitMQTransport: until KeyboardInterrupt
            time.sleep(0.1)
