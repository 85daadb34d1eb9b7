"""Default hooks: the DEBUG step tree of the seed, the error tree, timings, inject_hooks."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from toolkit.stories import (
    ExecutionTimeTracker,
    I,
    LoggingHook,
    State,
    StatusTracker,
    StepStatus,
    Story,
    inject_hooks,
)


def make_story() -> type[Story]:
    class HookedStory(Story):
        I.step_one
        I.step_two
        I.step_three

        def step_one(self, state: Any) -> None:
            state.done.append(1)

        def step_two(self, state: Any) -> None:
            state.done.append(2)

        def step_three(self, state: Any) -> None:
            if state.fail:
                raise ValueError("step three broke")
            state.done.append(3)

    return HookedStory


def messages(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (r.levelname, re.sub(r"\[\d+\.\d{3}s\]", "[t]", r.getMessage()))
        for r in caplog.records
        if r.name == "toolkit.stories"
    ]


def test_logging_hook_prints_the_seed_tree_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    story_cls = make_story()
    inject_hooks(story_cls)
    with caplog.at_level(logging.DEBUG, logger="toolkit.stories"):
        story_cls()(State(done=[], fail=False))
    assert messages(caplog) == [
        ("DEBUG", "\nHookedStory:\n    ⟳I.step_one\n    I.step_two\n    I.step_three"),
        ("DEBUG", "\nHookedStory:\n    ✓I.step_one [t]\n    ⟳I.step_two\n    I.step_three"),
        ("DEBUG", "\nHookedStory:\n    ✓I.step_one [t]\n    ✓I.step_two [t]\n    ⟳I.step_three"),
        (
            "DEBUG",
            "\nHookedStory:\n    ✓I.step_one [t]\n    ✓I.step_two [t]\n    ✓I.step_three [t]",
        ),
    ]


def test_logging_hook_logs_the_failed_tree_with_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    story_cls = make_story()
    inject_hooks(story_cls)
    with caplog.at_level(logging.DEBUG, logger="toolkit.stories"), pytest.raises(ValueError):
        story_cls()(State(done=[], fail=True))
    assert messages(caplog)[-1] == (
        "ERROR",
        "\nHookedStory:\n    ✓I.step_one [t]\n    ✓I.step_two [t]\n    ✗I.step_three",
    )
    error = caplog.records[-1]
    assert error.exc_info is not None and str(error.exc_info[1]) == "step three broke"
    assert "Traceback (most recent call last)" in caplog.text


def test_logging_is_silent_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    story_cls = make_story()
    inject_hooks(story_cls)
    with caplog.at_level(logging.INFO, logger="toolkit.stories"):
        story_cls()(State(done=[], fail=False))
    assert messages(caplog) == []


def test_status_and_time_trackers_fill_meta() -> None:
    story_cls = make_story()
    seen: list[tuple[str, Any, bool]] = []

    class Spy:
        def after(self, context: Any, step: Any) -> None:
            seen.append((step.step_name, step.meta["status"], step.meta["duration"] >= 0))

    inject_hooks(story_cls, hooks=[StatusTracker(), ExecutionTimeTracker(), Spy()])
    with pytest.raises(ValueError):
        story_cls()(State(done=[], fail=True))
    assert seen == [
        ("step_one", StepStatus.COMPLETED, True),
        ("step_two", StepStatus.COMPLETED, True),
        ("step_three", StepStatus.FAILED, True),
    ]


def test_inject_hooks_refuses_an_object_without_hook_methods() -> None:
    with pytest.raises(TypeError) as excinfo:
        inject_hooks(make_story(), hooks=[object()])
    assert excinfo.value.args[0].endswith(
        "is not a story hook: it needs a before, after or error method"
    )


def test_logging_hook_uses_the_given_logger(caplog: pytest.LogCaptureFixture) -> None:
    story_cls = make_story()
    inject_hooks(story_cls, hooks=[StatusTracker(), LoggingHook(logging.getLogger("shop.stories"))])
    with caplog.at_level(logging.DEBUG, logger="shop.stories"):
        story_cls()(State(done=[], fail=False))
    assert [r.name for r in caplog.records] == ["shop.stories"] * 4


def test_time_tracker_notes_the_duration_of_a_failing_step_in_its_error_hook() -> None:
    story_cls = make_story()
    seen: list[tuple[str, bool, str]] = []

    class Spy:
        def error(self, context: Any, step: Any) -> None:
            seen.append((step.step_name, "duration" in step.meta, str(step)))

    inject_hooks(story_cls, hooks=[StatusTracker(), ExecutionTimeTracker(), Spy()])
    with pytest.raises(ValueError):
        story_cls()(State(done=[], fail=True))
    # The duration is known at error time; the line gets its timing only in ``after``.
    assert seen == [("step_three", True, "    ✗I.step_three")]


def test_a_custom_hook_can_change_the_step_template_as_in_dddkit() -> None:
    story_cls = make_story()
    lines: list[str] = []

    class Numbered:
        def before(self, context: Any, step: Any) -> None:
            step.template = f"{step.template} (#{{step_index}})"

        def after(self, context: Any, step: Any) -> None:
            lines.append(str(step))

    inject_hooks(story_cls, hooks=[StatusTracker(), Numbered()])
    story_cls()(State(done=[], fail=False))
    assert lines == ["    ✓I.step_one (#0)", "    ✓I.step_two (#1)", "    ✓I.step_three (#2)"]
