"""Default story hooks (a "domain probe", Fowler's domain-oriented observability) and
:func:`inject_hooks`.

* :class:`StatusTracker` notes ``meta["status"]``: ⟳ running, ✓ completed, ✗ failed.
* :class:`ExecutionTimeTracker` notes ``meta["duration"]`` (seconds) when a step is over.
* :class:`LoggingHook` logs the step tree on the ``toolkit.stories`` logger: at DEBUG before
  each step and after the last one, at ERROR (with the traceback) when a step fails.

A hook is any object with some of the methods ``before``, ``after``, ``error``, each taking
``(context: StoryExecutionContext, step_info: StepExecutionInfo)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from toolkit.stories.story import (
    HOOK_NAMES,
    STEP_TEMPLATE,
    StepExecutionInfo,
    StepStatus,
    Story,
    StoryExecutionContext,
)

logger = logging.getLogger("toolkit.stories")

# Precomputed per module, so the hooks allocate no new template for the usual step line.
_RUNNING = StepStatus.RUNNING
_COMPLETED = StepStatus.COMPLETED
_INDENT = len(STEP_TEMPLATE) - len(STEP_TEMPLATE.lstrip(" "))
_STATUS_TEMPLATE = f"{STEP_TEMPLATE[:_INDENT]}{{meta[status]}}{STEP_TEMPLATE[_INDENT:]}"
_DURATION_SUFFIX = " [{meta[duration]:.3f}s]"
_STATUS_DURATION_TEMPLATE = _STATUS_TEMPLATE + _DURATION_SUFFIX

__all__ = ["ExecutionTimeTracker", "LoggingHook", "StatusTracker", "default_hooks", "inject_hooks"]


class StatusTracker:
    """Sets ``step_info.meta["status"]`` to a :class:`StepStatus` and shows it in the line.

    ``before`` puts ``{meta[status]}`` in front of ``I.`` in ``step_info.template`` (dddkit's
    behaviour), so the line reads ``⟳I.step``, then ``✓I.step`` or ``✗I.step``.
    """

    __slots__ = ()

    def before(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        step_info.meta["status"] = _RUNNING
        template = step_info.template
        if template == STEP_TEMPLATE:  # the usual case: its result is precomputed
            step_info.template = _STATUS_TEMPLATE
        elif "{meta[status]}" not in template:
            indent = len(template) - len(template.lstrip(" "))
            step_info.template = f"{template[:indent]}{{meta[status]}}{template[indent:]}"

    def after(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        meta = step_info.meta
        if meta.get("status") is _RUNNING:
            meta["status"] = _COMPLETED

    def error(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        step_info.meta["status"] = StepStatus.FAILED


class ExecutionTimeTracker:
    """Sets ``step_info.meta["duration"]``: seconds the step took (``perf_counter``).

    ``error`` notes the duration of a failing step; ``after`` notes it (unless ``error`` did)
    and appends `` [{meta[duration]:.3f}s]`` to ``step_info.template``, as dddkit does. The
    start time is kept in ``meta["started"]`` (not in the hook), so one tracker serves
    concurrent runs.
    """

    __slots__ = ()

    def before(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        step_info.meta["started"] = time.perf_counter()

    def after(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        meta = step_info.meta
        if "duration" not in meta:
            meta["duration"] = time.perf_counter() - float(meta.get("started", context.started_at))
        template = step_info.template
        if template == _STATUS_TEMPLATE:  # after StatusTracker: the result is precomputed
            step_info.template = _STATUS_DURATION_TEMPLATE
        elif "{meta[duration]" not in template:
            step_info.template = f"{template}{_DURATION_SUFFIX}"

    def error(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        step_info.meta["duration"] = self._elapsed(context, step_info)

    @staticmethod
    def _elapsed(context: StoryExecutionContext, step_info: StepExecutionInfo) -> float:
        started = step_info.meta.get("started", context.started_at)
        return time.perf_counter() - float(started)


class LoggingHook:
    """Logs the step tree: DEBUG before each step and after the last, ERROR on failure.

    The message starts with a newline (as dddkit's does), so the tree starts on its own line
    under whatever the log format puts in front of it.
    """

    __slots__ = ("logger",)

    def __init__(self, logger: logging.Logger = logger) -> None:
        self.logger = logger

    def before(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        if self.logger.isEnabledFor(logging.DEBUG):
            self.logger.debug("\n%s", str(context))  # rendered now: the context changes

    def after(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        # is_last() inlined; the cheap checks first, the logger's level last
        if (
            step_info.error is None
            and step_info.step_index == len(context.steps) - 1
            and self.logger.isEnabledFor(logging.DEBUG)
        ):
            self.logger.debug("\n%s", str(context))  # rendered now: the context changes

    def error(self, context: StoryExecutionContext, step_info: StepExecutionInfo) -> None:
        self.logger.error("\n%s", str(context), exc_info=step_info.error)


def default_hooks() -> list[object]:
    """New instances of the default hooks: status, time, logging (in that order)."""
    return [StatusTracker(), ExecutionTimeTracker(), LoggingHook()]


def inject_hooks(story_cls: type[Story], hooks: Iterable[object] | None = None) -> None:
    """Register ``hooks`` (default: :func:`default_hooks`) on ``story_cls``.

    Each hook's ``before`` / ``after`` / ``error`` methods are registered in the order of the
    list; a hook without any of them is refused.
    """
    for hook in default_hooks() if hooks is None else list(hooks):
        found = [name for name in HOOK_NAMES if callable(getattr(hook, name, None))]
        if not found:
            raise TypeError(
                f"{hook!r} is not a story hook: it needs a before, after or error method"
            )
        for name in found:
            story_cls.register_hook(name, getattr(hook, name))
