"""Fixtures shared by the pattern tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def spans() -> Iterator[Any]:
    """The in-memory exporter of the toolkit's OpenTelemetry spans finished during the test."""
    from toolkit.testing.otel import capture_spans

    with capture_spans() as exporter:
        yield exporter
