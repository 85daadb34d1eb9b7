"""The results of ``make bench``: tables a benchmark publishes, one JSON file per run, and the
README's performance tables regenerated from it.

A benchmark is any module ``bench/<name>.py`` (names starting with ``_`` are helpers). To take
part in ``make bench`` it needs nothing more; optionally it

- sets ``MAKE_BENCH_ARGS = ["--n", "500"]`` (a literal list, read without importing the module)
  for sizes modest enough that the whole run takes minutes, and
- calls :func:`publish` with its tables after measuring, so the README shows real tables; a
  module that does not is shown by its printed output.

The runner (``python -m bench``) runs each module in its own process with
``BENCH_RESULTS=<file>`` set, collects what it published, writes
``bench/results/<UTC timestamp>.json`` and ``bench/results/latest.json``, and rewrites the part
of README.md between ``<!-- bench:<name>:start -->`` and ``<!-- bench:<name>:end -->`` for every
module that ran.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

#: Set by the runner: the JSON file a module's :func:`publish` writes to.
RESULTS_ENV = "BENCH_RESULTS"

NOISE_NOTE = (
    "The machine is shared (2 cores, several other processes running tests), so absolute "
    "times are noisy: compare the ratios, each against a floor measured in the same run."
)


@dataclass
class Table:
    """One results table: a title, column names, rows of cells, and notes shown under it."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)


def publish(tables: Sequence[Table], *, notes: Sequence[str] = ()) -> None:
    """Hand ``tables`` to the ``make bench`` runner (no-op when the module runs on its own)."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    payload = {"tables": [asdict(t) for t in tables], "notes": list(notes)}
    with open(path, "w", encoding="utf-8") as out:
        json.dump(_finite(payload), out, indent=1, allow_nan=False)


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# -- rendering -----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "n/a"
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value).replace("|", "\\|")


def render_table(table: Mapping[str, Any]) -> str:
    """A published table as Markdown."""
    lines = [f"**{table['title']}**", ""]
    columns = list(table["columns"])
    lines.append("| " + " | ".join(columns) + " |")
    lines.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|")
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in table["rows"])
    for note in table.get("notes") or []:
        lines.extend(["", note])
    return "\n".join(lines)


def render_entry(name: str, entry: Mapping[str, Any], run: Mapping[str, Any]) -> str:
    """The README block of one benchmark module: provenance, tables (or output), notes.

    The module's own start time and machine reading come first (a merged ``latest.json`` holds
    modules of different runs); entries stored before they were recorded use the run's."""
    machine = entry.get("machine") or run["machine"]
    started = entry.get("started") or run["started"]
    head = (
        f"*`make bench` run of {started} UTC on {machine['cpu']} "
        f"({machine['cores']} cores, load average {machine['load_start']} at the start); "
        f"`{entry['command']}`, {entry['seconds']:.0f} s.* {NOISE_NOTE}"
    )
    parts = [head, ""]
    if entry.get("returncode", 0) != 0:
        parts.append(f"The run failed (exit code {entry['returncode']}); its last output:")
        parts.extend(["", "```text", entry.get("output", "").strip()[-2000:], "```"])
    elif entry.get("tables"):
        for table in entry["tables"]:
            parts.extend([render_table(table), ""])
        parts.extend(str(note) for note in entry.get("notes") or [])
    else:
        parts.extend(["```text", entry.get("output", "").strip(), "```"])
    return "\n".join(parts).strip()


def markers(name: str) -> tuple[str, str]:
    """The README markers around the generated block of benchmark ``name``."""
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def update_readme(text: str, run: Mapping[str, Any]) -> tuple[str, list[str]]:
    """``text`` with every benchmark block of ``run`` regenerated, and the names of the modules
    that have no markers in it (their results stay in the JSON only)."""
    missing = []
    for name, entry in run["benchmarks"].items():
        start, end = markers(name)
        found = re.search(re.escape(start) + r".*?" + re.escape(end), text, re.DOTALL)
        if found is None:
            missing.append(name)
            continue
        block = f"{start}\n{render_entry(name, entry, run)}\n{end}"
        text = text[: found.start()] + block + text[found.end() :]
    return text, missing
