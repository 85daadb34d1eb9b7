"""What both Prometheus hooks share: defaults, metric names, timing and the status label.

The hooks time each step themselves (they do not need :class:`ExecutionTimeTracker`) and
observe two histograms, in milliseconds:

* ``<prefix>_executions_latency_ms`` ("Story Execution Time"): labels ``service``,
  ``story_name``, ``status`` and the custom labels; observed once per run, after the last
  step or after the step that failed.
* ``<prefix>_step_executions_latency_ms`` ("Story step execution time"): labels ``service``,
  ``story_name``, ``step_name``, ``status`` and the custom labels; observed after each step.

``status`` is ``"completed"`` or ``"failed"``. The defaults are dddkit's, ``dddkit_stories``
(:data:`DEFAULT_APP_NAME`, :data:`DEFAULT_PREFIX`), so dddkit's dashboards and alerts keep working.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from toolkit.core.exceptions import ValidationError
from toolkit.stories.story import StepExecutionInfo, StoryExecutionContext

DEFAULT_APP_NAME = "dddkit_stories"
DEFAULT_PREFIX = "dddkit_stories"
DEFAULT_BUCKETS: tuple[float, ...] = (10, 25, 50, 100, 300, 500, 1000, 2000, 5000, 10000)
STORY_METRIC = "executions_latency_ms"
STEP_METRIC = "step_executions_latency_ms"
STORY_HELP = "Story Execution Time"
STEP_HELP = "Story step execution time"
STATUS_COMPLETED = "completed"
STATUS_FAILED = "failed"
RESERVED_LABELS = ("service", "status", "step_name", "story_name")

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _parse_buckets(buckets: Sequence[float | str]) -> list[float]:
    """Bucket bounds as floats (dddkit accepts strings such as ``"2.5"`` or ``"+Inf"``)."""
    parsed: list[float] = []
    for bound in buckets:
        try:
            parsed.append(float(bound))
        except (TypeError, ValueError):
            raise ValidationError(
                f"Histogram bucket {bound!r} is not a number; buckets: {list(buckets)!r}",
                field="buckets",
                value=bound,
            ) from None
    if parsed != sorted(parsed):
        raise ValidationError(
            f"Histogram buckets must be in increasing order, not {list(buckets)!r}",
            field="buckets",
            value=list(buckets),
        )
    return parsed


# Per registry (weakly: a dropped registry takes its histograms along), per metric name.
_histograms: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_histograms_lock = threading.Lock()


def histograms_of(registry: Any) -> dict[str, Any]:
    """The histograms :func:`shared_histogram` made in ``registry``, by name (the live dict:
    forgetting a name here makes the next hook create that histogram again)."""
    with _histograms_lock:
        return _histograms.setdefault(registry, {})


def shared_histogram(
    registry: Any,
    name: str,
    create: Callable[[], Any],
    check: Callable[[Any], None] | None = None,
) -> Any:
    """The histogram ``name`` of ``registry``, made by ``create`` the first time.

    Every hook using the same registry and name shares it; ``check`` may reject the existing
    one (it raises) when the new hook's configuration does not fit it.
    """
    with _histograms_lock:
        by_name = _histograms.setdefault(registry, {})
        existing = by_name.get(name)
        if existing is None:
            existing = by_name[name] = create()
        elif check is not None:
            check(existing)
        return existing


class MetricsHookBase:
    """Configuration and timing shared by the prometheus_client and aioprometheus hooks."""

    def __init__(
        self,
        app_name: str = DEFAULT_APP_NAME,
        prefix: str = DEFAULT_PREFIX,
        labels: Mapping[str, str] | None = None,
        buckets: Sequence[float | str] | None = None,
    ) -> None:
        if not _NAME.match(prefix):
            raise ValidationError(
                f"Metric prefix {prefix!r} is not a valid Prometheus name "
                f"(letters, digits, '_' and ':', not starting with a digit)",
                field="prefix",
                value=prefix,
            )
        custom = dict(labels or {})
        for name in custom:
            if name in RESERVED_LABELS or not _LABEL.match(name):
                reserved = ", ".join(repr(n) for n in RESERVED_LABELS)
                raise ValidationError(
                    f"Custom label {name!r} is not allowed: it must be a valid label name "
                    f"and not one of {reserved}",
                    field="labels",
                    value=name,
                )
        self.app_name = app_name
        self.prefix = prefix
        self.labels: dict[str, str] = {k: str(v) for k, v in custom.items()}
        self.buckets: list[float] = _parse_buckets(buckets or DEFAULT_BUCKETS)
        self.story_metric_name = f"{prefix}_{STORY_METRIC}"
        self.step_metric_name = f"{prefix}_{STEP_METRIC}"
        # dddkit's attribute names for the same values.
        self._metric_name = self.story_metric_name
        self._step_metric_name = self.step_metric_name
        self._meta_key = self._key = f"{prefix}_metrics"

    def before(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        """Note when the step (and, for the first step, the story) started."""
        now = time.perf_counter()
        step_info.meta[self._key] = now
        context.meta.setdefault(self._key, now)

    def after(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        """Observe the step; observe the story after its last or its failing step."""
        now = time.perf_counter()
        status = STATUS_FAILED if step_info.error is not None else STATUS_COMPLETED
        step_ms = (now - step_info.meta.get(self._key, now)) * 1000
        self.observe_step(context.story_name, step_info.step_name, status, step_ms)
        if step_info.error is not None or context.is_last(step_info):
            story_ms = (now - context.meta.get(self._key, context.started_at)) * 1000
            self.observe_story(context.story_name, status, story_ms)

    def observe_step(self, story_name: str, step_name: str, status: str, ms: float) -> None:
        """Record one step duration (milliseconds)."""
        raise NotImplementedError

    def observe_story(self, story_name: str, status: str, ms: float) -> None:
        """Record one story duration (milliseconds)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(app_name={self.app_name!r}, prefix={self.prefix!r}, "
            f"labels={self.labels!r}, buckets={self.buckets!r})"
        )
