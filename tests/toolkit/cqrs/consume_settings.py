"""Settings for running ``cqrs_consume`` in a subprocess: the test settings + a Kombu broker."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403

TOOLKIT = {
    "cqrs": {
        "transport": os.environ.get(
            "CQRS_TEST_TRANSPORT", "toolkit.cqrs.transport.kombu.KombuTransport"
        ),
        "broker_url": os.environ["CQRS_TEST_BROKER_URL"],
        "exchange": os.environ["CQRS_TEST_NAME"],
        "queue": os.environ["CQRS_TEST_NAME"],
    }
}
