"""The aioprometheus PrometheusMetricsHook: names, constant and per-observation labels."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aioprometheus.collectors import Registry
from aioprometheus.renderer import render

from toolkit.stories import I, State, Story, inject_hooks
from toolkit.stories.aioprometheus import PrometheusMetricsHook


def make_story() -> type[Story]:
    class Sync(Story):
        I.fetch
        I.store

        async def fetch(self, state: Any) -> None:
            await asyncio.sleep(0)

        def store(self, state: Any) -> None:
            if state.fail:
                raise RuntimeError("disk full")

    return Sync


def test_metrics_names_labels_and_default_buckets() -> None:
    registry = Registry()
    hook = PrometheusMetricsHook(app_name="svc", labels={"env": "test"}, registry=registry)
    story_cls = make_story()
    inject_hooks(story_cls, hooks=[hook])
    asyncio.run(story_cls()(State(fail=False)))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        asyncio.run(story_cls()(State(fail=True)))  # type: ignore[arg-type]

    assert (hook.story_histogram.name, hook.step_histogram.name) == (
        "dddkit_stories_executions_latency_ms",
        "dddkit_stories_step_executions_latency_ms",
    )
    assert (hook.story_histogram.doc, hook.step_histogram.doc) == (
        "Story Execution Time",
        "Story step execution time",
    )
    assert hook.story_histogram.const_labels == {"service": "svc", "env": "test"}
    assert PrometheusMetricsHook(registry=Registry()).story_histogram.const_labels == {
        "service": "dddkit_stories"
    }
    assert [b for b in hook.story_histogram.upper_bounds if b != float("inf")] == [
        10.0,
        25.0,
        50.0,
        100.0,
        300.0,
        500.0,
        1000.0,
        2000.0,
        5000.0,
        10000.0,
    ]
    completed = hook.story_histogram.get({"story_name": "Sync", "status": "completed"})
    failed = hook.story_histogram.get({"story_name": "Sync", "status": "failed"})
    assert (completed["count"], failed["count"]) == (1, 1)
    step = hook.step_histogram.get(
        {"story_name": "Sync", "step_name": "fetch", "status": "completed"}
    )
    assert step["count"] == 2
    text = render(registry, [])[0].decode()
    assert (
        'dddkit_stories_executions_latency_ms_count{env="test",service="svc",status="failed",'
        'story_name="Sync"} 1' in text
    )
