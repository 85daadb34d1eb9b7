"""Reach the real servers the suite talks to, or fail/skip with a reason.

In CI (``CI=true``) a missing server fails the test loudly; elsewhere the test is skipped
with the reason, so a newcomer without Redis or RabbitMQ can still run the suite.
"""

from __future__ import annotations

import os
import socket
from contextvars import ContextVar

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Fail (CI) or skip (elsewhere) unless ``host:port`` accepts connections."""
    if _reachable(host, port):
        return
    reason = f"{name} is not reachable on {host}:{port}"
    if in_ci():
        pytest.fail(f"{reason} (CI=true: server-backed tests must run)", pytrace=False)
    pytest.skip(reason)


def require_redis() -> None:
    require_server("Redis", "127.0.0.1", 6379)


def require_rabbitmq() -> None:
    require_server("RabbitMQ", "127.0.0.1", 5672)


#: The running test's item, set by the autouse fixture in tests/conftest.py.
current_test: ContextVar[pytest.Item | None] = ContextVar("current_test", default=None)


def require_postgres_db() -> None:
    """Skip unless the test database is PostgreSQL (the PostgreSQL pass runs these tests).

    Fails a test that calls it without the ``postgres`` marker, on every database, so that
    ``-m postgres`` selects every test that needs PostgreSQL and ``-m "not postgres"`` none.
    """
    item = current_test.get()
    if item is not None and item.get_closest_marker("postgres") is None:
        pytest.fail(
            f"{item.nodeid} needs PostgreSQL but is not marked: add @pytest.mark.postgres",
            pytrace=False,
        )
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL pass (make test-postgres)")
