"""OpenTelemetry spans for the toolkit's patterns, no-ops unless the SDK is configured.

Install the extra with ``pip install "django-pattern-toolkit[otel]"`` and configure a tracer
provider as usual (``opentelemetry.trace.set_tracer_provider(TracerProvider(...))``); the toolkit
then emits these spans, with no setting of its own:

- ``repository.get``, ``repository.list``, ``repository.add``, ``repository.update``,
  ``repository.remove`` (and their async variants, same names)
- ``command.execute``, ``command.undo``
- ``state_machine.trigger``
- ``cache.hit``, ``cache.miss``, ``cache.invalidate``

When OpenTelemetry is not installed, or installed but no SDK tracer provider is configured,
:func:`span` returns a shared do-nothing context manager: a few attribute reads and no
allocation, so the patterns' hot paths (a ``@cached`` hit) pay next to nothing.

Use it in toolkit code (and your own) as::

    from toolkit.contrib.otel import span

    with span("repository.get", model="Order", id=42) as current:
        current.set_attribute("found", True)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, ParamSpec, Protocol, TypeVar

__all__ = ["INSTALL_HINT", "SpanLike", "is_enabled", "reset", "span", "traced"]

INSTALL_HINT = 'pip install "django-pattern-toolkit[otel]"'

P = ParamSpec("P")
R = TypeVar("R")

try:  # The extra is optional: without it every span is a no-op.
    from opentelemetry import trace as _trace
except ImportError:  # pragma: no cover - exercised in a subprocess test
    _trace = None  # type: ignore[assignment]


class SpanLike(Protocol):
    """What ``with span(...) as current`` gives: an OTel span, or the no-op stand-in."""

    def set_attribute(self, key: str, value: Any) -> Any:
        """Attach one attribute to the span."""

    def record_exception(self, exception: BaseException, *args: Any, **kwargs: Any) -> Any:
        """Record an exception on the span."""


class _NoopSpan:
    """Shared do-nothing span and context manager, used when tracing is off."""

    __slots__ = ()

    def __enter__(self) -> _NoopSpan:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def set_attribute(self, key: str, value: Any) -> None:
        return None

    def record_exception(self, exception: BaseException, *args: Any, **kwargs: Any) -> None:
        return None

    def is_recording(self) -> bool:
        return False


_NOOP = _NoopSpan()
_MISSING = object()

#: The tracer, once an SDK tracer provider has been seen. OpenTelemetry lets a process set
#: its global provider only once, so once found it never changes and can be kept.
_tracer: Any = None


#: Whether the provider may come from the ``OTEL_PYTHON_TRACER_PROVIDER`` variable, which
#: the API only reads inside ``get_tracer_provider()``.
_FROM_ENV = bool(os.environ.get("OTEL_PYTHON_TRACER_PROVIDER"))


def _find_tracer() -> Any:
    global _tracer
    if _trace is None:
        return None
    # Fast exit while nothing is configured: the API keeps the global provider in this module
    # attribute, and asking for it through get_tracer_provider() costs more than the hot paths
    # that call span() (a cache hit) can afford.
    if not _FROM_ENV and getattr(_trace, "_TRACER_PROVIDER", _MISSING) is None:
        return None
    provider = _trace.get_tracer_provider()
    # The API's own providers are placeholders: nothing is configured yet.
    if isinstance(provider, _trace.ProxyTracerProvider | _trace.NoOpTracerProvider):
        return None
    from toolkit import __version__

    _tracer = provider.get_tracer("toolkit", __version__)
    return _tracer


def is_enabled() -> bool:
    """True when OpenTelemetry is installed and an SDK tracer provider is configured."""
    return (_tracer if _tracer is not None else _find_tracer()) is not None


def reset() -> None:
    """Forget the tracer found so far (tests that swap the global provider call this)."""
    global _tracer
    _tracer = None


def _attribute_value(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [str(item) for item in value]
    return str(value)


def span(name: str, **attributes: Any) -> Any:
    """Return a context manager that records the span ``name`` with ``attributes``.

    A real OTel span (current for its block) when the SDK is configured, else a shared no-op.
    Attribute values that OTel cannot hold (models, dicts, ``None``) are stored as ``str``;
    ``None`` values are skipped.
    """
    tracer = _tracer if _tracer is not None else _find_tracer()
    if tracer is None:
        return _NOOP
    clean = {key: _attribute_value(value) for key, value in attributes.items() if value is not None}
    return tracer.start_as_current_span(name, attributes=clean)


def traced(name: str, **attributes: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function so every call runs inside ``span(name, **attributes)``."""

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(name, **attributes):
                return func(*args, **kwargs)

        return wrapper

    return decorator
