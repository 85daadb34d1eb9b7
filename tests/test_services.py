"""The test helpers keep the suite's markers honest."""

from __future__ import annotations

import pytest

from tests import services


def test_a_test_needing_postgresql_without_the_marker_fails(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("postgres") is None
    with pytest.raises(pytest.fail.Exception) as exc_info:
        services.require_postgres_db()
    assert str(exc_info.value) == (
        f"{request.node.nodeid} needs PostgreSQL but is not marked: add @pytest.mark.postgres"
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_marked_test_runs_on_postgresql_and_skips_elsewhere() -> None:
    from django.db import connection

    services.require_postgres_db()  # skips on SQLite, with the reason
    assert connection.vendor == "postgresql"
