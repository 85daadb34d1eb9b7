"""Aggregates found by ``autodiscover_aggregates`` (djangoevents' ``aggregates.py``)."""

from __future__ import annotations

from typing import Any

from toolkit.eventsourcing import Aggregate


class Discovered(Aggregate):
    class Happened(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.happened = True
