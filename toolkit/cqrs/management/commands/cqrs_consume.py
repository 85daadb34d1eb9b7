"""``manage.py cqrs_consume``: run the replica consumer until SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.cqrs.transport import get_transport
from toolkit.cqrs.transport.inprocess import InProcessTransport


class Command(BaseCommand):
    help = (
        "Consume CQRS messages from the broker and apply them to the replica models. "
        "Stops gracefully on SIGTERM or SIGINT; reconnects when the broker restarts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cqrs-id",
            "-cid",
            action="extend",
            nargs="+",
            dest="cqrs_ids",
            help=(
                "Consume only these CQRS_IDs (as in django-cqrs: '-cid a b', or repeat the "
                "option; default: every message of the queue)."
            ),
        )
        parser.add_argument(
            "--max-messages",
            type=int,
            default=None,
            help="Stop after handling this many messages.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.exceptions import UnknownCqrsId
        from toolkit.cqrs.registries import ReplicaRegistry

        transport = get_transport()
        if issubclass(transport, InProcessTransport):
            raise CommandError(
                "The in-process transport delivers messages inside the producing process; "
                "set TOOLKIT['cqrs']['transport'] to "
                "'toolkit.cqrs.transport.kombu.KombuTransport' to run a consumer."
            )
        cqrs_ids = options["cqrs_ids"]
        for cqrs_id in cqrs_ids or []:
            try:
                ReplicaRegistry.get(cqrs_id)
            except UnknownCqrsId as exc:
                raise CommandError(str(exc)) from exc
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            self.stdout.write(f"Received {signal.Signals(signum).name}; stopping.")
            stop.set()

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            handled = transport.consume(
                cqrs_ids,
                stop=stop,
                max_messages=options["max_messages"],
                on_connected=lambda: self.stdout.write("Consumer connected.", ending="\n"),
            )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            transport.clean_connection()
        self.stdout.write(f"Consumer stopped after {handled} message(s).")
