"""Prometheus metrics for stories with ``aioprometheus``: :class:`PrometheusMetricsHook`."""

from __future__ import annotations

from toolkit.stories.aioprometheus.hook import PrometheusMetricsHook

__all__ = ["PrometheusMetricsHook"]
