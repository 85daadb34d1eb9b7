"""Count every query a panel view runs, plugin-state reads included.

The demo's plugin-gated guards ask the plugin registry at each call; the registry's Django
state store reads the ``toolkit_pluginstate`` table once per request and answers the
request's later reads from that copy, so they add at most one query to a page.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def view_queries(client: Any, url: str, **params: Any) -> list[str]:
    """The SQL of every query ``GET url`` ran."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return [query["sql"] for query in ctx.captured_queries]
