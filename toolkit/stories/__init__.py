"""Stories: business operations as named steps, with hooks for logging, timing and metrics.

Pure Python (no Django). See :mod:`toolkit.stories.story` for the DSL, and
:mod:`toolkit.stories.prometheus` / :mod:`toolkit.stories.aioprometheus` for the metrics hooks.

Example::

    from dataclasses import dataclass
    from toolkit.stories import I, State, Story, inject_hooks

    @dataclass(frozen=True, slots=True)
    class Checkout(Story):
        I.reserve
        I.charge

        def reserve(self, state): ...
        def charge(self, state): ...

    inject_hooks(Checkout)     # StatusTracker, ExecutionTimeTracker, LoggingHook
    Checkout()(State(order_id=1))
"""

from __future__ import annotations

from toolkit.stories.hooks import (
    ExecutionTimeTracker,
    LoggingHook,
    StatusTracker,
    default_hooks,
    inject_hooks,
)
from toolkit.stories.story import (
    I,
    State,
    StepExecutionInfo,
    StepStatus,
    Story,
    StoryDefinitionError,
    StoryExecutionContext,
    UnknownHookType,
)

__all__ = [
    "ExecutionTimeTracker",
    "I",
    "LoggingHook",
    "State",
    "StatusTracker",
    "StepExecutionInfo",
    "StepStatus",
    "Story",
    "StoryDefinitionError",
    "StoryExecutionContext",
    "UnknownHookType",
    "default_hooks",
    "inject_hooks",
]
