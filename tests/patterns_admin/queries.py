"""Count the queries a panel view runs, apart from the plugin-state reads of the demo's guards."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

#: Tables read by the demo's plugin-gated guards (``demo.shop.screening.is_enabled`` re-reads
#: the plugin's row at each call), not by the view under test.
PER_REQUEST_TABLES = ("toolkit_pluginstate",)


def view_queries(client: Any, url: str, **params: Any) -> list[str]:
    """The SQL of the queries ``GET url`` ran, without the per-request hooks' queries."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return [
        query["sql"]
        for query in ctx.captured_queries
        if not any(table in query["sql"] for table in PER_REQUEST_TABLES)
    ]
