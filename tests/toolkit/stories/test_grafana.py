"""The Grafana dashboards in docs/grafana query metrics and labels the hook really exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from toolkit.stories import I, State, Story, inject_hooks
from toolkit.stories.prometheus import PrometheusMetricsHook

GRAFANA = Path(__file__).resolve().parents[3] / "docs" / "grafana"
DASHBOARDS = ["stories-execution-dashboard.json", "stories-steps-execution-dashboard.json"]


def exposed_samples() -> tuple[set[str], set[str]]:
    """Sample names and label names a story run puts in a fresh registry."""
    registry = CollectorRegistry()

    class Probe(Story):
        I.only

        def only(self, state: Any) -> None:
            pass

    inject_hooks(Probe, hooks=[PrometheusMetricsHook(registry=registry)])
    Probe()(State())
    names: set[str] = set()
    labels: set[str] = set()
    for family in registry.collect():
        for sample in family.samples:
            names.add(sample.name)
            labels.update(sample.labels)
    return names, labels


def expressions(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return exprs


@pytest.mark.parametrize("filename", DASHBOARDS)
def test_dashboard_queries_only_exposed_metrics_and_labels(filename: str) -> None:
    dashboard = json.loads((GRAFANA / filename).read_text())
    prefix = next(v for v in dashboard["templating"]["list"] if v["name"] == "prefix")["query"]
    assert prefix == "dddkit_stories"
    names, labels = exposed_samples()
    exprs = [e.replace("${prefix}", prefix) for e in expressions(dashboard)]
    assert exprs
    for expr in exprs:
        used = set(re.findall(r"\b(dddkit_stories_\w+)", expr))
        assert used and used <= names, expr
        matchers = set(re.findall(r"(\w+)\s*=~?\s*\"", expr))
        by_labels = {
            label.strip()
            for group in re.findall(r"by \(([^)]*)\)", expr)
            for label in group.split(",")
        }
        assert (matchers | by_labels) <= labels | {"le"}, expr
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
