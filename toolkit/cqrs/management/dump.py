"""What ``cqrs_bulk_dump`` and ``cqrs_bulk_load`` share: django-cqrs' dump line encoding."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_ujson: Any
try:  # the kombu extra: django-cqrs writes its dumps with ujson; so do we when we can
    import ujson as _ujson
except ImportError:  # pragma: no cover - depends on the environment
    _ujson = None


def dumps(data: Any) -> str:
    """One dump line: ujson's compact text, or the standard library's when ujson is absent."""
    if _ujson is not None:
        return str(_ujson.dumps(data))
    return json.dumps(data, separators=(",", ":"))


def loads(line: str) -> Any:
    """Parse one dump line; raise ``ValueError`` when it is not JSON."""
    return json.loads(line)


def batch_qs(qs: Any, batch_size: int = 10000) -> Iterator[Any]:
    """django-cqrs' ``batch_qs``: slices of ``batch_size`` rows, for a static table."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be > 0, not {batch_size!r}")
    total = qs.count()
    for start in range(0, total, batch_size):
        yield qs[start : min(start + batch_size, total)]
