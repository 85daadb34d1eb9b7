"""System checks of TOOLKIT["eventsourcing"] and the schema files (toolkit.E1xx)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings

from toolkit.eventsourcing.checks import check_eventsourcing


def ids(messages: list) -> list[tuple[str, str]]:
    return [(m.id, m.msg) for m in messages]


def test_valid_settings_and_no_schemas_pass() -> None:
    assert check_eventsourcing() == []


def test_unknown_keys_and_bad_values_are_reported() -> None:
    with override_settings(TOOLKIT={"eventsourcing": {"validate": True, "projection_max_lag": 0}}):
        messages = ids(check_eventsourcing())
    assert messages == [
        (
            "toolkit.E101",
            "Unknown key 'validate' in TOOLKIT['eventsourcing']; valid keys are: "
            "'add_schema_version', 'database', 'prepared_statements', 'projection_batch_size', "
            "'projection_degraded_lag', 'projection_gap_timeout', 'projection_lease_seconds', "
            "'projection_max_attempts', 'projection_max_lag', 'projection_max_restarts', "
            "'projection_retry_backoff', 'projection_stalled_after', 'redis_prefix', "
            "'redis_url', 'require_schemas', 'schema_dirs', 'validate_on_append'.",
        ),
        (
            "toolkit.E102",
            "TOOLKIT['eventsourcing']['projection_max_lag'] is 0; it must be a positive integer.",
        ),
    ]


def test_bad_schema_files_and_missing_dirs_fail_the_check(tmp_path: Path) -> None:
    (tmp_path / "order").mkdir()
    (tmp_path / "order" / "v1_order_paid.json").write_text("{oops")
    missing = tmp_path / "nowhere"
    with override_settings(
        TOOLKIT={"eventsourcing": {"schema_dirs": [str(tmp_path), str(missing)]}}
    ):
        messages = check_eventsourcing()
    assert [m.id for m in messages] == ["toolkit.E110", "toolkit.E111"]
    assert messages[0].msg.startswith(
        f"Event schema {str(tmp_path / 'order' / 'v1_order_paid.json')!r}: not valid JSON: "
    )
    assert messages[1].msg == f"Event schema directory {str(missing)!r} does not exist."


def test_require_schemas_lists_aggregate_events_without_schema(tmp_path: Path) -> None:
    from tests.toolkit.eventsourcing.test_aggregate import Todo

    (tmp_path / "todo").mkdir()
    for name in ("created", "relabelled"):
        (tmp_path / "todo" / f"v1_todo_{name}.json").write_text(json.dumps({"type": "object"}))
    settings = {"eventsourcing": {"schema_dirs": [str(tmp_path)], "require_schemas": True}}
    with override_settings(TOOLKIT=settings):
        messages = [m for m in check_eventsourcing() if "'Todo'" in m.msg]
    assert Todo.Completed.event_type == "TodoCompleted"
    assert [(m.id, m.msg, m.hint) for m in messages] == [
        (
            "toolkit.E112",
            "Event 'TodoCompleted' of aggregate 'Todo' has no schema.",
            "Add todo/v1_todo_completed.json to a schema directory.",
        )
    ]


def test_the_check_runs_with_manage_py_check(tmp_path: Path) -> None:
    import pytest
    from django.core.management.base import SystemCheckError

    settings = {"eventsourcing": {"schema_dirs": [str(tmp_path / "x")]}}
    with override_settings(TOOLKIT=settings), pytest.raises(SystemCheckError) as info:
        call_command("check")
    assert "toolkit.E111" in str(info.value)
