"""Fixtures of the CQRS tests: a clean in-process transport and fresh counters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from toolkit.cqrs import consumer
from toolkit.cqrs.transport.inprocess import InProcessTransport


@pytest.fixture(autouse=True)
def _clean_cqrs_state() -> Iterator[None]:
    InProcessTransport.clean_connection()
    consumer.stats.clear()
    yield
    InProcessTransport.clean_connection()
