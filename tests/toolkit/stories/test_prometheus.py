"""PrometheusMetricsHook (prometheus_client): names, labels, buckets, observations."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from toolkit.patterns.exceptions import ValidationError
from toolkit.stories import I, State, Story, inject_hooks
from toolkit.stories.prometheus import PrometheusMetricsHook
from toolkit.stories.prometheus.hook import PrometheusMetricsHook as HookFromModule

DEFAULT_BUCKETS = [
    "10.0",
    "25.0",
    "50.0",
    "100.0",
    "300.0",
    "500.0",
    "1000.0",
    "2000.0",
    "5000.0",
    "10000.0",
    "+Inf",
]


def make_story() -> type[Story]:
    class PlaceOrder(Story):
        I.validate
        I.charge

        def validate(self, state: Any) -> None:
            pass

        def charge(self, state: Any) -> None:
            if state.fail:
                raise RuntimeError("declined")

    return PlaceOrder


def families(registry: CollectorRegistry) -> dict[str, Any]:
    return {m.name: m for m in registry.collect()}


def test_default_names_labels_and_buckets() -> None:
    registry = CollectorRegistry()
    story_cls = make_story()
    inject_hooks(story_cls, hooks=[PrometheusMetricsHook(registry=registry)])
    story_cls()(State(fail=False))

    found = families(registry)
    assert sorted(found) == [
        "dddkit_stories_executions_latency_ms",
        "dddkit_stories_step_executions_latency_ms",
    ]
    story_family = found["dddkit_stories_executions_latency_ms"]
    assert (story_family.type, story_family.documentation) == ("histogram", "Story Execution Time")
    buckets = [s for s in story_family.samples if s.name.endswith("_bucket")]
    assert [s.labels["le"] for s in buckets] == DEFAULT_BUCKETS
    assert {k: v for k, v in buckets[0].labels.items() if k != "le"} == {
        "service": "dddkit_stories",
        "story_name": "PlaceOrder",
        "status": "completed",
    }
    assert [s.value for s in buckets] == [1.0] * len(DEFAULT_BUCKETS)

    step_family = found["dddkit_stories_step_executions_latency_ms"]
    assert step_family.documentation == "Story step execution time"
    counts = {
        s.labels["step_name"]: (s.labels["status"], s.value)
        for s in step_family.samples
        if s.name.endswith("_count")
    }
    assert counts == {"validate": ("completed", 1.0), "charge": ("completed", 1.0)}


def test_seed_parameters_custom_labels_and_buckets() -> None:
    registry = CollectorRegistry()
    hook = PrometheusMetricsHook(
        app_name="my_app",
        prefix="my_service",
        labels={"env": "production", "version": "1.0.0"},
        buckets=[5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
        registry=registry,
    )
    story_cls = make_story()
    inject_hooks(story_cls, hooks=[hook])
    story_cls()(State(fail=False))
    labels = {
        "service": "my_app",
        "story_name": "PlaceOrder",
        "status": "completed",
        "env": "production",
        "version": "1.0.0",
    }
    assert registry.get_sample_value("my_service_executions_latency_ms_count", labels) == 1.0
    assert (
        registry.get_sample_value(
            "my_service_step_executions_latency_ms_count", {**labels, "step_name": "charge"}
        )
        == 1.0
    )
    bucket_bounds = [
        s.labels["le"]
        for s in families(registry)["my_service_executions_latency_ms"].samples
        if s.name.endswith("_bucket")
    ]
    assert len(bucket_bounds) == 12  # 11 buckets + Inf
    assert bucket_bounds[0] == "5.0"


def test_failed_step_is_observed_with_failed_status_and_ends_the_story() -> None:
    registry = CollectorRegistry()
    story_cls = make_story()
    inject_hooks(story_cls, hooks=[PrometheusMetricsHook(registry=registry)])
    story_cls()(State(fail=False))
    with pytest.raises(RuntimeError):
        story_cls()(State(fail=True))
    base = {"service": "dddkit_stories", "story_name": "PlaceOrder"}
    get = registry.get_sample_value
    assert get("dddkit_stories_executions_latency_ms_count", {**base, "status": "completed"}) == 1
    assert get("dddkit_stories_executions_latency_ms_count", {**base, "status": "failed"}) == 1
    step = "dddkit_stories_step_executions_latency_ms_count"
    assert get(step, {**base, "step_name": "charge", "status": "failed"}) == 1
    assert get(step, {**base, "step_name": "validate", "status": "completed"}) == 2


def test_observed_latency_is_in_milliseconds() -> None:
    import time

    registry = CollectorRegistry()

    class Slow(Story):
        I.wait

        def wait(self, state: Any) -> None:
            time.sleep(0.03)

    inject_hooks(Slow, hooks=[PrometheusMetricsHook(registry=registry)])
    Slow()(State())
    labels = {"service": "dddkit_stories", "story_name": "Slow", "status": "completed"}
    total = registry.get_sample_value("dddkit_stories_executions_latency_ms_sum", labels)
    assert total is not None and 30 <= total < 1000
    assert (
        registry.get_sample_value(
            "dddkit_stories_executions_latency_ms_bucket", {**labels, "le": "25.0"}
        )
        == 0.0
    )


def test_two_hooks_with_the_same_prefix_share_the_histograms() -> None:
    registry = CollectorRegistry()
    first = PrometheusMetricsHook(app_name="a", registry=registry)
    second = PrometheusMetricsHook(app_name="b", registry=registry)
    assert first.story_histogram is second.story_histogram


def test_same_prefix_with_other_labels_is_refused() -> None:
    registry = CollectorRegistry()
    PrometheusMetricsHook(registry=registry)
    with pytest.raises(ValidationError) as excinfo:
        PrometheusMetricsHook(labels={"env": "x"}, registry=registry)
    assert excinfo.value.args == (
        "Metric 'dddkit_stories_executions_latency_ms' already exists with labels "
        "['service', 'story_name', 'status'], not ['service', 'story_name', 'status', 'env']; "
        "use another prefix",
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"prefix": "9bad"},
            "Metric prefix '9bad' is not a valid Prometheus name (letters, digits, '_' and ':', "
            "not starting with a digit)",
        ),
        (
            {"labels": {"status": "x"}},
            "Custom label 'status' is not allowed: it must be a valid label name and not one of "
            "'service', 'status', 'step_name', 'story_name'",
        ),
        (
            {"buckets": [10, "ten", 100]},
            "Histogram bucket 'ten' is not a number; buckets: [10, 'ten', 100]",
        ),
        (
            {"buckets": [100, 10]},
            "Histogram buckets must be in increasing order, not [100, 10]",
        ),
    ],
    ids=["prefix", "reserved-label", "bucket-not-a-number", "buckets-unsorted"],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        PrometheusMetricsHook(registry=CollectorRegistry(), **kwargs)
    assert excinfo.value.args == (message,)


def test_buckets_may_be_strings_as_in_dddkit() -> None:
    registry = CollectorRegistry()
    hook = PrometheusMetricsHook(buckets=["5", "2500.5"], registry=registry)
    story_cls = make_story()
    inject_hooks(story_cls, hooks=[hook])
    story_cls()(State(fail=False))
    bounds = [
        s.labels["le"]
        for s in families(registry)["dddkit_stories_executions_latency_ms"].samples
        if s.name.endswith("_bucket")
    ]
    assert (hook.buckets, bounds) == ([5.0, 2500.5], ["5.0", "2500.5", "+Inf"])


def test_hook_module_path_of_the_seed() -> None:
    assert HookFromModule is PrometheusMetricsHook


def test_dddkit_attribute_names_and_the_live_metrics_dict() -> None:
    from prometheus_client import REGISTRY

    hook = PrometheusMetricsHook(app_name="shop", prefix="dddkit_names_test")
    try:
        assert hook._meta_key == "dddkit_names_test_metrics"
        assert hook._metric_name == "dddkit_names_test_executions_latency_ms"
        assert hook._step_metric_name == "dddkit_names_test_step_executions_latency_ms"
        metrics = PrometheusMetricsHook._metrics
        assert metrics[hook._metric_name] is hook.story_histogram
        assert metrics[hook._step_metric_name] is hook.step_histogram
        # dddkit's test fixtures unregister the histograms and clear _metrics: the next hook
        # then creates (and registers) new ones.
        for name in (hook._metric_name, hook._step_metric_name):
            REGISTRY.unregister(metrics.pop(name))
        again = PrometheusMetricsHook(app_name="shop", prefix="dddkit_names_test")
        assert again.story_histogram is not hook.story_histogram
        assert metrics[again._metric_name] is again.story_histogram
    finally:
        for name in (
            "dddkit_names_test_executions_latency_ms",
            "dddkit_names_test_step_executions_latency_ms",
        ):
            if name in PrometheusMetricsHook._metrics:
                REGISTRY.unregister(PrometheusMetricsHook._metrics.pop(name))
