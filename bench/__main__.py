"""Run every benchmark: ``python -m bench`` (what ``make bench`` calls).

``python -m bench event_store cache`` runs some; ``python -m bench panel --args='--rows 1000000
--keep'`` runs one with other arguments than its ``MAKE_BENCH_ARGS``; ``--list`` lists them with
their arguments; ``--readme bench/results/latest.json`` only regenerates README.md from a stored
run. Each module runs in its own process (each configures Django its own way) with its
``MAKE_BENCH_ARGS``; see ``bench/_report.py`` for how a module registers and publishes its
tables.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import pkgutil
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._report import RESULTS_ENV, update_readme

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


def modules() -> list[str]:
    """Every benchmark module of ``bench/`` (helpers start with ``_``), sorted."""
    return sorted(m.name for m in pkgutil.iter_modules([str(BENCH_DIR)]) if m.name[0] != "_")


def make_bench_args(name: str) -> list[str]:
    """The module's ``MAKE_BENCH_ARGS`` literal, read without importing it."""
    tree = ast.parse((BENCH_DIR / f"{name}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign | ast.AnnAssign)
            and any(
                isinstance(t, ast.Name) and t.id == "MAKE_BENCH_ARGS"
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            )
            and node.value is not None
        ):
            return [str(a) for a in ast.literal_eval(node.value)]
    return []


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load_start": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def run_module(name: str, override: list[str] | None = None) -> dict[str, Any]:
    args = make_bench_args(name) if override is None else override
    command = " ".join([".venv/bin/python", "-m", f"bench.{name}", *args])
    print(f"== {command}", flush=True)
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    reading = machine()  # the load average at this module's start
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        results_path = handle.name
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", *args],
            cwd=ROOT,
            env={**os.environ, RESULTS_ENV: results_path},
            capture_output=True,
            text=True,
            check=False,
        )
        published = Path(results_path).read_text(encoding="utf-8")
    finally:
        os.unlink(results_path)
    output = proc.stdout + (f"\n{proc.stderr}" if proc.returncode else "")
    print(output, flush=True)
    entry: dict[str, Any] = {
        "started": started_at,
        "machine": reading,
        "command": command,
        "seconds": round(time.perf_counter() - started, 1),
        "returncode": proc.returncode,
        "output": output,
    }
    if published.strip():
        entry.update(json.loads(published))
    return entry


def write_readme(run: dict[str, Any], readme: Path) -> None:
    text, missing = update_readme(readme.read_text(encoding="utf-8"), run)
    readme.write_text(text, encoding="utf-8")
    for name in missing:
        print(f"README.md has no <!-- bench:{name}:start --> marker: not shown there")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks, store, update README.md")
    parser.add_argument("names", nargs="*", help="modules to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the modules and exit")
    parser.add_argument("--readme", metavar="JSON", help="only regenerate README.md from JSON")
    parser.add_argument("--no-readme", action="store_true", help="do not touch README.md")
    parser.add_argument(
        "--args",
        metavar="ARGS",
        help="the arguments of the one module named, instead of its MAKE_BENCH_ARGS "
        "(e.g. --args='--rows 1000000 --keep' for bench.panel's full size)",
    )
    args = parser.parse_args(argv)
    readme = ROOT / "README.md"
    if args.list:
        for name in modules():
            print(" ".join(["python -m", f"bench.{name}", *make_bench_args(name)]))
        return 0
    if args.readme:
        write_readme(json.loads(Path(args.readme).read_text(encoding="utf-8")), readme)
        return 0
    unknown = sorted(set(args.names) - set(modules()))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {', '.join(modules())}")
    if args.args is not None and len(args.names) != 1:
        parser.error("--args applies to exactly one named module")
    override = None if args.args is None else shlex.split(args.args)
    run: dict[str, Any] = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "benchmarks": {},
    }
    for name in args.names or modules():
        run["benchmarks"][name] = run_module(name, override)
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(run, indent=1)
    (RESULTS_DIR / f"{stamp}.json").write_text(text, encoding="utf-8")
    # With a subset, latest.json is merged so it keeps describing every module.
    latest = RESULTS_DIR / "latest.json"
    if args.names and latest.exists():
        merged = json.loads(latest.read_text(encoding="utf-8"))
        merged["benchmarks"].update(run["benchmarks"])
        merged_text = json.dumps(merged, indent=1)
    else:
        merged_text = text
    latest.write_text(merged_text, encoding="utf-8")
    print(f"results: bench/results/{stamp}.json (and latest.json)")
    if not args.no_readme:
        write_readme(run, readme)
    failed = [n for n, e in run["benchmarks"].items() if e["returncode"]]
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
