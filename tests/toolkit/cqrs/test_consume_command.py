"""``cqrs_consume`` as a real process: it stops gracefully on SIGTERM and SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import kombu
import pytest
import redis

from tests import services

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = services.REDIS_URL


@pytest.mark.redis
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_consume_command_stops_gracefully_on_signal(signum):
    services.require_redis()
    name = f"cqrs_test_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "CQRS_TEST_BROKER_URL": REDIS_URL,
        "CQRS_TEST_NAME": name,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "cqrs_consume",
            "--settings",
            "tests.toolkit.cqrs.consume_settings",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert first_line == "Consumer connected.\n"
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        with kombu.Connection(REDIS_URL) as connection:
            channel = connection.channel()
            kombu.Queue(name)(channel).delete()
        client = redis.Redis.from_url(REDIS_URL)
        for key in list(client.scan_iter(match=f"*{name}*")):
            client.delete(key)
    assert process.returncode == 0, err
    assert out == (
        f"Received {signal.Signals(signum).name}; stopping.\nConsumer stopped after 0 message(s).\n"
    )
