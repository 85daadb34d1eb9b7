"""Fixtures shared by the whole suite."""

from __future__ import annotations

import pytest

from tests import services


@pytest.fixture(autouse=True)
def _current_test(request: pytest.FixtureRequest):
    """Lets services.require_postgres_db() check that the test carries the postgres marker."""
    token = services.current_test.set(request.node)
    yield
    services.current_test.reset(token)


@pytest.fixture
def redis_url() -> str:
    """URL of a Redis database reserved for tests (db 15); fails in CI if Redis is down."""
    services.require_redis()
    return services.REDIS_URL


@pytest.fixture
def rabbitmq_url() -> str:
    """AMQP URL of the RabbitMQ server; fails in CI if it is down."""
    services.require_rabbitmq()
    return services.RABBITMQ_URL


@pytest.fixture
def postgres_only(db: None) -> None:
    """Skip the test on SQLite; the PostgreSQL pass runs it."""
    services.require_postgres_db()
