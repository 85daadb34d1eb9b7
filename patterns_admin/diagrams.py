"""Render a state machine's graphviz DOT text to inline SVG, cached by the DOT's hash.

The ``graphviz-pure`` package installs a ``graphviz-pure`` binary next to the Python
interpreter, so drawing needs no system package; a ``dot`` on ``PATH`` is the fallback. The
same DOT always gives the same SVG, so the result is cached under the DOT's SHA-256 (in the
Django cache shared by processes, and in a small per-process dict in front of it).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from django.core.cache import cache

#: Seconds a render may take before it is abandoned.
RENDER_TIMEOUT = 15.0
#: Seconds an SVG stays in the Django cache (the key changes whenever the DOT changes).
CACHE_TTL = 24 * 3600
_CACHE_PREFIX = "patterns_admin:svg:"
_LOCAL_LIMIT = 256

_local: dict[str, str] = {}
_local_lock = threading.Lock()
# The XML prolog, DOCTYPE and comments cannot appear inside an HTML document's <svg> element.
_PROLOG_RE = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.DOTALL)


class DiagramRenderError(RuntimeError):
    """Raised when no graphviz binary is found or it rejects the DOT text.

    ``command`` is the binary tried (or ``None`` when there is none), ``detail`` its stderr.
    """

    def __init__(self, message: str, *, command: str | None = None, detail: str = "") -> None:
        self.command = command
        self.detail = detail
        super().__init__(message)


def find_renderer() -> str:
    """Path of the graphviz binary to use: ``graphviz-pure`` first, then ``dot``."""
    beside_python = Path(sys.executable).with_name("graphviz-pure")
    if beside_python.exists():
        return str(beside_python)
    for name in ("graphviz-pure", "dot"):
        found = shutil.which(name)
        if found:
            return found
    raise DiagramRenderError(
        "No graphviz binary found: install the 'graphviz-pure' package "
        "(pip install graphviz-pure) or put graphviz's 'dot' on PATH."
    )


def dot_hash(dot: str) -> str:
    """SHA-256 hex digest of the DOT text: the cache key and the ETag of a diagram."""
    return hashlib.sha256(dot.encode("utf-8")).hexdigest()


def _run(dot: str) -> str:
    command = find_renderer()
    try:
        completed = subprocess.run(
            [command, "-Tsvg"],
            input=dot.encode("utf-8"),
            capture_output=True,
            timeout=RENDER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DiagramRenderError(
            f"{command} did not finish within {RENDER_TIMEOUT:g} s", command=command
        ) from exc
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip()
        raise DiagramRenderError(
            f"{command} exited with status {completed.returncode}: {detail}",
            command=command,
            detail=detail,
        )
    return _PROLOG_RE.sub("", completed.stdout.decode("utf-8")).strip()


def render_svg(dot: str) -> str:
    """Return the SVG markup (without XML prolog) of ``dot``, rendering it at most once.

    Example::

        svg = render_svg(machine.to_dot(current="paid"))
    """
    key = dot_hash(dot)
    with _local_lock:
        if key in _local:
            return _local[key]
    svg = cache.get(_CACHE_PREFIX + key)
    if not isinstance(svg, str):
        svg = _run(dot)
        cache.set(_CACHE_PREFIX + key, svg, CACHE_TTL)
    with _local_lock:
        if len(_local) >= _LOCAL_LIMIT:
            _local.pop(next(iter(_local)))
        _local[key] = svg
    return svg


def clear_local_cache() -> None:
    """Forget the per-process cache (tests; the Django cache is left alone)."""
    with _local_lock:
        _local.clear()
