"""Reach the real servers the suite talks to, or fail/skip with a reason.

In CI (``CI=true``) a missing server fails the test loudly; elsewhere the test is skipped
with the reason, so a newcomer without Redis or RabbitMQ can still run the suite.
"""

from __future__ import annotations

import os
import socket

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


def require_postgres_db() -> None:
    """Skip unless the test database is PostgreSQL (the PostgreSQL pass runs these tests)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL pass (make test-postgres)")
