"""PrometheusMetricsHook on ``prometheus_client``: pip install "django-pattern-toolkit[prometheus]".

Example::

    hook = PrometheusMetricsHook(app_name="shop", labels={"env": "production"})
    inject_hooks(CheckoutStory, hooks=[hook])

Histograms are created once per (registry, name) and shared by every hook using that name;
``registry`` defaults to ``prometheus_client.REGISTRY`` (what ``/metrics`` exposes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from toolkit.core.exceptions import ValidationError
from toolkit.ddd.exceptions import MissingDependencyError
from toolkit.stories.metrics import (
    STEP_HELP,
    STORY_HELP,
    MetricsHookBase,
    histograms_of,
    shared_histogram,
)

try:
    from prometheus_client import REGISTRY, CollectorRegistry, Histogram
except ImportError as exc:  # pragma: no cover - exercised by a test that hides the package
    raise MissingDependencyError("prometheus_client", "prometheus-client", "prometheus") from exc

__all__ = ["PrometheusMetricsHook"]


def _histogram(
    registry: CollectorRegistry,
    name: str,
    documentation: str,
    labelnames: list[str],
    buckets: list[float],
) -> Histogram:
    def check(existing: Histogram) -> None:
        if list(existing._labelnames) != labelnames:
            raise ValidationError(
                f"Metric {name!r} already exists with labels "
                f"{list(existing._labelnames)!r}, not {labelnames!r}; use another prefix",
                field="labels",
            )

    histogram: Histogram = shared_histogram(
        registry,
        name,
        lambda: Histogram(
            name, documentation, labelnames=labelnames, buckets=buckets, registry=registry
        ),
        check,
    )
    return histogram


class PrometheusMetricsHook(MetricsHookBase):
    """Story and step latency histograms (milliseconds) in a prometheus_client registry.

    Parameters as in dddkit: ``app_name`` (the ``service`` label, default
    ``"dddkit_stories"``), ``prefix`` (of the metric names, default ``"dddkit_stories"``),
    ``labels`` (extra constant labels), ``buckets`` (default
    ``[10, 25, 50, 100, 300, 500, 1000, 2000, 5000, 10000]``); plus ``registry``.
    """

    #: The histograms of the default registry by name (dddkit's ``_metrics``; the live dict).
    _metrics: ClassVar[dict[str, Any]] = histograms_of(REGISTRY)

    def __init__(
        self,
        app_name: str = "dddkit_stories",
        prefix: str = "dddkit_stories",
        labels: Mapping[str, str] | None = None,
        buckets: Sequence[float | str] | None = None,
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        super().__init__(app_name=app_name, prefix=prefix, labels=labels, buckets=buckets)
        self.registry = registry if registry is not None else REGISTRY
        # labels() validates and locks on every call; the children are cached per label set.
        self._story_children: dict[tuple[str, ...], Any] = {}
        self._step_children: dict[tuple[str, ...], Any] = {}
        custom = list(self.labels)
        self.story_histogram = _histogram(
            self.registry,
            self.story_metric_name,
            STORY_HELP,
            ["service", "story_name", "status", *custom],
            self.buckets,
        )
        self.step_histogram = _histogram(
            self.registry,
            self.step_metric_name,
            STEP_HELP,
            ["service", "story_name", "step_name", "status", *custom],
            self.buckets,
        )

    def observe_step(self, story_name: str, step_name: str, status: str, ms: float) -> None:
        key = (story_name, step_name, status)
        child = self._step_children.get(key)
        if child is None:
            labels: dict[str, Any] = {
                "service": self.app_name,
                "story_name": story_name,
                "step_name": step_name,
                "status": status,
                **self.labels,
            }
            child = self._step_children[key] = self.step_histogram.labels(**labels)
        child.observe(ms)

    def observe_story(self, story_name: str, status: str, ms: float) -> None:
        key = (story_name, status)
        child = self._story_children.get(key)
        if child is None:
            labels: dict[str, Any] = {
                "service": self.app_name,
                "story_name": story_name,
                "status": status,
                **self.labels,
            }
            child = self._story_children[key] = self.story_histogram.labels(**labels)
        child.observe(ms)
