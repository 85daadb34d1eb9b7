"""toolkit.contrib.otel: real spans with the SDK configured, shared no-op otherwise."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from tests.toolkit.patterns.docs_examples import run_page
from toolkit.contrib import otel
from toolkit.testing.otel import capture_spans


def test_span_records_name_and_attributes_when_sdk_configured() -> None:
    with capture_spans() as exporter, otel.span("repository.get", model="Order", id=42):
        pass
    (recorded,) = exporter.get_finished_spans()
    assert recorded.name == "repository.get"
    assert dict(recorded.attributes or {}) == {"model": "Order", "id": 42}


def test_span_stringifies_values_otel_cannot_hold_and_skips_none() -> None:
    with capture_spans() as exporter, otel.span("cache.hit", key=("a", 1), owner=object, x=None):
        pass
    (recorded,) = exporter.get_finished_spans()
    assert dict(recorded.attributes or {}) == {"key": ("a", "1"), "owner": "<class 'object'>"}


def test_span_records_exception_and_error_status() -> None:
    with (
        capture_spans() as exporter,
        pytest.raises(ValueError),
        otel.span("command.execute", command="Boom"),
    ):
        raise ValueError("boom")
    (recorded,) = exporter.get_finished_spans()
    assert recorded.status.status_code is StatusCode.ERROR
    assert [event.name for event in recorded.events] == ["exception"]


def test_traced_decorator_wraps_every_call_in_a_span() -> None:
    @otel.traced("state_machine.trigger", machine="OrderMachine")
    def trigger(value: int) -> int:
        return value * 2

    with capture_spans() as exporter:
        assert trigger(2) == 4
        assert trigger(3) == 6
    assert [s.name for s in exporter.get_finished_spans()] == ["state_machine.trigger"] * 2


def test_span_is_shared_noop_without_a_configured_provider(monkeypatch) -> None:
    monkeypatch.setattr(otel, "_tracer", None)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.ProxyTracerProvider())
    first = otel.span("cache.miss", key="k")
    second = otel.span("cache.hit")
    assert first is second
    assert otel.is_enabled() is False
    with first as current:
        current.set_attribute("ignored", 1)
        assert current.is_recording() is False


def test_span_is_noop_when_opentelemetry_is_not_installed() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if the extra were not installed
        from toolkit.contrib import otel
        with otel.span("repository.get", id=1) as current:
            current.set_attribute("found", True)
        print(otel.is_enabled(), type(current).__name__, otel.INSTALL_HINT)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == 'False _NoopSpan pip install "django-pattern-toolkit[otel]"'


def test_docs_page_examples_run() -> None:
    run_page("observability.md")
