"""``make bench``'s README regeneration, from a small stored run (no timing here)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.__main__ import main, make_bench_args, modules, write_readme
from bench._report import NOISE_NOTE, Table, publish, render_table, update_readme

FIXTURE = Path(__file__).parent / "fixtures" / "run.json"

README = """# Project

Before.

<!-- bench:event_store:start -->
old event store figures
<!-- bench:event_store:end -->

Between.

<!-- bench:lazy:start -->
<!-- bench:lazy:end -->

<!-- bench:cqrs:start -->
stale
<!-- bench:cqrs:end -->

<!-- bench:panel:start -->
panel figures of an earlier run
<!-- bench:panel:end -->
After.
"""


@pytest.fixture
def run() -> dict[str, object]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _block(text: str, name: str) -> str:
    start, end = f"<!-- bench:{name}:start -->\n", f"\n<!-- bench:{name}:end -->"
    return text[text.index(start) + len(start) : text.index(end)]


def test_published_tables_replace_the_block_with_provenance_and_noise_note(
    run: dict[str, object],
) -> None:
    text, missing = update_readme(README, run)
    assert _block(text, "event_store") == "\n".join(
        [
            "*`make bench` run of 2026-12-03 21:00 UTC on Test CPU (2 cores, load average "
            "7.5, 6.9, 3.6 at the start); `.venv/bin/python -m bench.event_store --reps 5`, "
            f"95 s.* {NOISE_NOTE}",
            "",
            "**Store level**",
            "",
            "| database | work | floor ms/call | ours ms/call | floor/ours |",
            "|---|---:|---:|---:|---:|",
            "| SQLite | single append | 3.48 | 4.25 | 0.91 |",
            "| PostgreSQL | load a\\|b | 856 | 730 | n/a |",
            "",
            "Floor: raw DB-API.",
            "",
            "Measured like for like.",
        ]
    )
    assert missing == ["unmarked"]


def test_text_output_and_failures_are_shown_and_other_blocks_and_prose_are_kept(
    run: dict[str, object],
) -> None:
    text, _ = update_readme(README, run)
    lazy = _block(text, "lazy")
    assert lazy.endswith("```text\nread after the first  ns/read\nlazy  27.0  0.94x\n```")
    cqrs = _block(text, "cqrs")
    assert "The run failed (exit code 1); its last output:" in cqrs
    assert "ConnectionError: redis down" in cqrs
    assert "stale" not in cqrs
    assert _block(text, "panel") == "panel figures of an earlier run"
    assert text.startswith("# Project\n\nBefore.\n\n") and text.endswith("-->\nAfter.\n")
    assert "\nBetween.\n" in text


def test_regenerating_twice_gives_the_same_readme(run: dict[str, object]) -> None:
    once, _ = update_readme(README, run)
    twice, _ = update_readme(once, run)
    assert twice == once


def test_main_readme_option_rewrites_a_readme_from_the_stored_json(
    tmp_path: Path, run: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    write_readme(run, readme)
    assert "| SQLite | single append | 3.48 | 4.25 | 0.91 |" in readme.read_text(encoding="utf-8")
    import bench.__main__ as runner

    monkeypatch.setattr(runner, "ROOT", tmp_path)
    (tmp_path / "README.md").write_text(README, encoding="utf-8")
    assert main(["--readme", str(FIXTURE)]) == 0
    assert "old event store figures" not in readme.read_text(encoding="utf-8")


def test_publish_writes_the_tables_only_under_the_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.json"
    table = Table("T", ["a", "b"], [["x", float("nan")]], ["n"])
    monkeypatch.delenv("BENCH_RESULTS", raising=False)
    publish([table])
    assert not target.exists()
    monkeypatch.setenv("BENCH_RESULTS", str(target))
    publish([table], notes=["top"])
    stored = json.loads(target.read_text(encoding="utf-8"))
    assert stored == {
        "tables": [{"title": "T", "columns": ["a", "b"], "rows": [["x", None]], "notes": ["n"]}],
        "notes": ["top"],
    }
    assert render_table(stored["tables"][0]).splitlines()[-3] == "| x | n/a |"


def test_every_bench_module_is_found_with_its_make_bench_arguments() -> None:
    assert {"event_store", "event_store_latency", "panel", "cqrs", "lazy"} <= set(modules())
    assert not any(name.startswith("_") for name in modules())
    assert make_bench_args("event_store_latency") == ["--appends", "100"]
    assert make_bench_args("lazy") == []


def test_main_args_option_replaces_the_one_named_modules_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    import bench.__main__ as runner

    with pytest.raises(SystemExit):
        main(["cache", "lazy", "--args", "--rows 5"])  # which module would they be for?
    with pytest.raises(SystemExit):
        main(["--args", "--rows 5"])
    calls: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, "out", "")

    monkeypatch.setattr(runner.subprocess, "run", fake_run)
    monkeypatch.setattr(runner, "RESULTS_DIR", tmp_path)
    assert main(["panel", "--no-readme", "--args", "--rows 1000000 --keep"]) == 0
    assert calls[-1][-3:] == ["--rows", "1000000", "--keep"]
    assert main(["panel", "--no-readme"]) == 0
    assert calls[-1][-4:] == make_bench_args("panel")


def test_make_bench_calls_the_runner_that_stores_the_run_and_rewrites_the_readme() -> None:
    """``make bench`` is ``python -m bench`` (JSON file per run, README tables regenerated),
    not a loop over the modules, which would print figures and store nothing."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[2]

    # Under `make test` the parent make's variables would make this one print its
    # directory changes and share its job server: run it as from a shell.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}

    def recipe(*args: str) -> str:
        done = subprocess.run(
            ["make", "--no-print-directory", "-n", "bench", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    assert recipe().endswith("-m bench")
    assert recipe("BENCH=state_machine lazy").endswith("-m bench state_machine lazy")


def test_a_module_entry_keeps_its_own_start_and_load_in_a_merged_run(
    run: dict[str, object],
) -> None:
    """latest.json merges modules of several runs: each block is stamped with its module's own
    start and load average, not the file's first run."""
    benchmarks = run["benchmarks"]
    assert isinstance(benchmarks, dict)
    benchmarks["event_store"] = {
        **benchmarks["event_store"],
        "started": "2026-12-04 18:10",
        "machine": {"cpu": "Other CPU", "cores": 4, "load_start": "0.6, 0.7, 0.4"},
    }
    text, _ = update_readme(README, run)
    assert _block(text, "event_store").startswith(
        "*`make bench` run of 2026-12-04 18:10 UTC on Other CPU (4 cores, load average "
        "0.6, 0.7, 0.4 at the start); "
    )
    assert "run of 2026-12-03 21:00 UTC on Test CPU" in _block(text, "lazy")


def test_each_module_run_records_its_start_and_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    import bench.__main__ as runner

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 0, "out", "")

    monkeypatch.setattr(runner.subprocess, "run", fake_run)
    entry = runner.run_module("lazy")
    assert set(entry) >= {"started", "machine", "command", "seconds", "output"}
    assert entry["machine"]["load_start"].count(",") == 2
