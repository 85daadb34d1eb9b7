"""PrometheusMetricsHook on ``aioprometheus``, for asyncio applications.

``pip install "django-pattern-toolkit[aioprometheus]"``. Same parameters, metric names and
labels as :class:`toolkit.stories.prometheus.PrometheusMetricsHook`; ``service`` and the custom
labels are the histograms' constant labels. ``registry`` defaults to ``aioprometheus.REGISTRY``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from toolkit.ddd.exceptions import MissingDependencyError
from toolkit.stories.metrics import (
    STEP_HELP,
    STORY_HELP,
    MetricsHookBase,
    histograms_of,
    shared_histogram,
)

try:
    from aioprometheus.collectors import REGISTRY, Histogram, Registry
except ImportError as exc:  # pragma: no cover - exercised by a test that hides the package
    raise MissingDependencyError("aioprometheus", extra="aioprometheus") from exc

__all__ = ["PrometheusMetricsHook"]


def _histogram(
    registry: Any, name: str, documentation: str, const_labels: dict[str, str], buckets: list[float]
) -> Any:
    return shared_histogram(
        registry,
        name,
        lambda: Histogram(
            name, documentation, const_labels=const_labels, registry=registry, buckets=buckets
        ),
    )


class PrometheusMetricsHook(MetricsHookBase):
    """Story and step latency histograms (milliseconds) in an aioprometheus registry."""

    #: The histograms of the default registry by name (dddkit's ``_metrics``; the live dict).
    _metrics: ClassVar[dict[str, Any]] = histograms_of(REGISTRY)

    def __init__(
        self,
        app_name: str = "dddkit_stories",
        prefix: str = "dddkit_stories",
        labels: Mapping[str, str] | None = None,
        buckets: Sequence[float | str] | None = None,
        *,
        registry: Registry | None = None,
    ) -> None:
        super().__init__(app_name=app_name, prefix=prefix, labels=labels, buckets=buckets)
        self.registry = registry if registry is not None else REGISTRY
        const_labels = {"service": self.app_name, **self.labels}
        self.story_histogram = _histogram(
            self.registry, self.story_metric_name, STORY_HELP, const_labels, self.buckets
        )
        self.step_histogram = _histogram(
            self.registry, self.step_metric_name, STEP_HELP, const_labels, self.buckets
        )

    def observe_step(self, story_name: str, step_name: str, status: str, ms: float) -> None:
        self.step_histogram.observe(
            {"story_name": story_name, "step_name": step_name, "status": status}, ms
        )

    def observe_story(self, story_name: str, status: str, ms: float) -> None:
        self.story_histogram.observe({"story_name": story_name, "status": status}, ms)
