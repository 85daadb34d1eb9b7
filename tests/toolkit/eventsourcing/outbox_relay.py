"""A real ``manage.py relay_outbox`` process for the outbox tests.

``python -m tests.toolkit.eventsourcing.outbox_relay BROKER_URL EXCHANGE`` sets Django up with
``tests.settings`` (database from ``DATABASE_URL``), enables the outbox with that broker and
exchange, and relays until SIGTERM in batches of 10.
"""

from __future__ import annotations

import os
import sys


def main(broker_url: str, exchange: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings

    outbox = {"enabled": True, "broker_url": broker_url, "exchange": exchange}
    with override_settings(TOOLKIT={"outbox": outbox}):
        call_command("relay_outbox", "--batch-size", "10", "--interval", "0.5")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
