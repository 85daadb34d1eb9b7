"""``cqrs_consume`` as a real process: it stops gracefully on SIGTERM and SIGINT."""

from __future__ import annotations

import signal

import pytest

from tests import services
from tests.toolkit.cqrs.processes import Consumer


@pytest.mark.redis
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_consume_command_stops_gracefully_on_signal(signum):
    services.require_redis()
    consumer = Consumer()
    try:
        assert consumer.wait_for(r".*")[0].string == "Consumer connected."
        consumer.process.send_signal(signum)
        code, out, err = consumer.finish()
    finally:
        consumer.close()
    assert code == 0, err
    assert out == (
        f"Received {signal.Signals(signum).name}; stopping.\nConsumer stopped after 0 message(s)."
    )
