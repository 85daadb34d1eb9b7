"""Prometheus metrics for stories with ``prometheus_client``: :class:`PrometheusMetricsHook`."""

from __future__ import annotations

from toolkit.stories.prometheus.hook import PrometheusMetricsHook

__all__ = ["PrometheusMetricsHook"]
