"""The ```python blocks of docs/stories.md run as written, in order, in one namespace."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.toolkit.ddd.test_docs import run_page


def test_stories_page_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    labels = {
        "service": "shop",
        "story_name": "MonitoredStory",
        "status": "completed",
        "env": "prod",
    }
    before = REGISTRY.get_sample_value("shop_executions_latency_ms_count", labels) or 0.0
    namespace = run_page("stories.md")
    assert namespace["state"].total == 10.0  # type: ignore[attr-defined]
    assert "Starting step: step_one\n" in capsys.readouterr().out
    assert REGISTRY.get_sample_value("shop_executions_latency_ms_count", labels) == before + 1
