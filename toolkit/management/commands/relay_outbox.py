"""``manage.py relay_outbox``: publish the transactional outbox to the configured broker.

Run as many as you like: they share the rows with ``SKIP LOCKED``. Each row is deleted only
after the broker confirmed it, so a killed relay's rows are published again by another one
(at least once). Idle relays wait on PostgreSQL ``LISTEN toolkit_outbox`` (polling on
SQLite). Stops cleanly on SIGTERM or SIGINT after the batch in progress.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.eventsourcing.config import es_settings
from toolkit.eventsourcing.outbox import KombuPublisher, OutboxRelay, outbox_settings
from toolkit.management.arguments import positive_int, seconds


class Command(BaseCommand):
    help = "Publish outbox rows to TOOLKIT['outbox']['broker_url'] until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=positive_int, default=100, help="Rows per transaction."
        )
        parser.add_argument(
            "--interval", type=seconds, default=1.0, help="Longest wait when idle (seconds)."
        )
        parser.add_argument("--once", action="store_true", help="Publish what is there and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        settings = outbox_settings()
        if not settings["broker_url"]:
            raise CommandError(
                "TOOLKIT['outbox']['broker_url'] is empty; set it to a kombu URL such as "
                "'amqp://guest:guest@localhost:5672//' or 'redis://localhost:6379/0'."
            )
        publisher = KombuPublisher(settings["broker_url"], settings["exchange"])
        relay = OutboxRelay(
            publisher, batch_size=options["batch_size"], using=str(es_settings()["database"])
        )
        self.stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stopping = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        total = 0
        try:
            while not self.stopping:
                published = relay.relay_batch()
                total += published
                if published:
                    self.stdout.write(f"published {published} event(s)")
                elif options["once"]:
                    break
                else:
                    relay.wait(options["interval"])
        finally:
            relay.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"Stopped after {total} event(s).")
