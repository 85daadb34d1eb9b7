"""Capture the toolkit's OpenTelemetry spans in tests, with the SDK's in-memory exporter.

::

    from toolkit.testing.otel import capture_spans

    with capture_spans() as exporter:
        repo.get(42)
    assert [s.name for s in exporter.get_finished_spans()] == ["repository.get"]

Needs the ``otel`` extra (``pip install "django-pattern-toolkit[otel]"``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from toolkit.contrib import otel

try:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
except ImportError as exc:  # pragma: no cover - the extra is installed in the dev setup
    raise ImportError(f"toolkit.testing.otel needs OpenTelemetry: {otel.INSTALL_HINT}") from exc

__all__ = ["capture_spans"]


class _CapturingProcessor(SpanProcessor):
    """Sends finished spans to the current capture's exporter, and drops them otherwise."""

    def __init__(self) -> None:
        self.exporter: InMemorySpanExporter | None = None

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        exporter = self.exporter
        if exporter is not None:
            exporter.export((span,))

    def shutdown(self) -> None:
        self.exporter = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_processor: _CapturingProcessor | None = None
_lock = threading.Lock()


def _install() -> _CapturingProcessor:
    global _processor
    with _lock:
        if _processor is not None:
            return _processor
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            # OpenTelemetry accepts one global provider per process; keep whichever won.
            trace.set_tracer_provider(TracerProvider())
            provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):  # pragma: no cover - foreign provider
            raise RuntimeError(
                f"capture_spans needs the SDK TracerProvider, the process uses {provider!r}"
            )
        _processor = _CapturingProcessor()
        provider.add_span_processor(_processor)
        otel.reset()
        return _processor


@contextmanager
def capture_spans() -> Iterator[InMemorySpanExporter]:
    """Configure the SDK (once per process) and collect the spans finished in the block."""
    processor = _install()
    exporter = InMemorySpanExporter()
    previous, processor.exporter = processor.exporter, exporter
    try:
        yield exporter
    finally:
        processor.exporter = previous
