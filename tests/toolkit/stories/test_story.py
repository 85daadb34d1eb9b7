"""The Story DSL: steps, state, sync and async runs, hooks and their order."""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from typing import Any

import pytest

from toolkit.patterns.exceptions import ValidationError
from toolkit.stories import (
    I,
    State,
    StepExecutionInfo,
    Story,
    StoryDefinitionError,
    StoryExecutionContext,
)
from toolkit.stories.story import COMPLETED


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def before(self, context: StoryExecutionContext, step: StepExecutionInfo) -> None:
        self.calls.append(f"before {step.step_name}")

    def after(self, context: StoryExecutionContext, step: StepExecutionInfo) -> None:
        self.calls.append(f"after {step.step_name}")

    def error(self, context: StoryExecutionContext, step: StepExecutionInfo) -> None:
        self.calls.append(f"error {step.step_name}: {step.error!r}")


def make_story() -> type[Story]:
    @dataclass(frozen=True, slots=True)
    class Checkout(Story):
        I.reserve
        I.charge
        I.ship

        def reserve(self, state: Any) -> None:
            state.log.append("reserve")

        def charge(self, state: Any) -> None:
            if state.fail_at == "charge":
                raise RuntimeError("card declined")
            state.log.append("charge")

        def ship(self, state: Any) -> None:
            state.log.append("ship")

    return Checkout


def test_steps_run_in_declaration_order() -> None:
    story_cls = make_story()
    state = State(log=[], fail_at=None)
    assert story_cls()(state) is COMPLETED
    assert state.log == ["reserve", "charge", "ship"]
    assert story_cls.steps() == ("reserve", "charge", "ship")


def test_unknown_step_fails_at_class_creation_naming_it() -> None:
    with pytest.raises(StoryDefinitionError) as excinfo:

        class Broken(Story):
            I.reserve
            I.chrage

            def reserve(self, state: Any) -> None: ...

            def charge(self, state: Any) -> None: ...

    assert excinfo.value.args == (
        "Broken declares step I.chrage but has no method 'chrage'; methods: 'charge', 'reserve'",
    )
    assert (excinfo.value.story, excinfo.value.step) == ("Broken", "chrage")


def test_hooks_run_before_after_and_error_in_order_after_runs_even_on_error() -> None:
    story_cls = make_story()
    recorder = Recorder()
    for name in ("before", "after", "error"):
        story_cls.register_hook(name, getattr(recorder, name))  # type: ignore[arg-type]
    state = State(log=[], fail_at="charge")
    with pytest.raises(RuntimeError, match="card declined"):
        story_cls()(state)
    assert recorder.calls == [
        "before reserve",
        "after reserve",
        "before charge",
        "error charge: RuntimeError('card declined')",
        "after charge",
    ]
    assert state.log == ["reserve"]


def test_hooks_belong_to_one_story_class() -> None:
    first, second = make_story(), make_story()
    recorder = Recorder()
    first.register_hook("before", recorder.before)
    second()(State(log=[], fail_at=None))
    assert recorder.calls == []


def test_register_unknown_hook_type_raises_value_error_listing_choices() -> None:
    with pytest.raises(ValueError) as excinfo:  # dddkit raises ValueError
        make_story().register_hook("around", lambda c, s: None)  # type: ignore[arg-type]
    assert isinstance(excinfo.value, ValidationError)
    assert excinfo.value.args == (
        "Unknown hook type: around; valid hook types are: 'after', 'before', 'error'",
    )


def test_private_names_in_the_story_body_are_not_steps() -> None:
    class WithHelper(Story):
        I.one
        I._helper  # dddkit: a name starting with "_" declares no step

        def one(self, state: Any) -> None:
            state.log.append("one")

    assert WithHelper.__steps__ == ("one",)
    assert WithHelper.I.__steps__ == ["one"]
    state = State(log=[])
    WithHelper()(state)
    assert state.log == ["one"]


def test_hooks_start_empty_and_step_hooks_is_the_same_dict() -> None:
    story_cls = make_story()
    assert not story_cls.__step_hooks__
    assert story_cls.__step_hooks__ is story_cls.__story_hooks__
    story_cls.register_hook("after", lambda c, s: None)
    assert len(story_cls.__step_hooks__["after"]) == 1
    story_cls.__step_hooks__.clear()  # dddkit's fixtures clear it this way
    story_cls.register_hook("before", lambda c, s: None)
    assert list(story_cls.__step_hooks__) == ["before"]


def test_context_cls_is_the_class_built_for_each_run() -> None:
    seen: list[StoryExecutionContext] = []

    class RecordingContext(StoryExecutionContext):
        def __post_init__(self) -> None:
            super().__post_init__()
            seen.append(self)

    class Recorded(Story):
        I.one
        context_class = RecordingContext

        def one(self, state: Any) -> None:
            pass

    assert Recorded.__context__cls__ is RecordingContext
    Recorded.register_hook("before", lambda c, s: None)
    Recorded()(State())
    assert len(seen) == 1


def test_story_with_an_async_step_returns_a_coroutine() -> None:
    @dataclass(frozen=True, slots=True)
    class Fetch(Story):
        I.load
        I.transform
        I.store

        async def load(self, state: Any) -> None:
            await asyncio.sleep(0)
            state.data = "raw"

        def transform(self, state: Any) -> None:
            state.data = state.data.upper()

        async def store(self, state: Any) -> None:
            state.saved = True

    recorder = Recorder()
    Fetch.register_hook("after", recorder.after)
    state = State()
    result = Fetch()(state)
    assert inspect.iscoroutine(result)
    assert not hasattr(state, "data")
    asyncio.run(result)
    assert (state.data, state.saved) == ("RAW", True)
    assert recorder.calls == ["after load", "after transform", "after store"]


def test_a_story_of_sync_steps_runs_at_once_and_may_be_awaited_too() -> None:
    story_cls = make_story()
    recorder = Recorder()
    story_cls.register_hook("after", recorder.after)

    async def in_a_loop() -> object:
        state = State(log=[], fail_at=None)
        result = story_cls()(state)
        assert state.log == ["reserve", "charge", "ship"]  # ran before any await
        return await result

    assert asyncio.run(in_a_loop()) is None
    assert recorder.calls == ["after reserve", "after charge", "after ship"]
    assert not COMPLETED


def test_async_story_error_runs_error_and_after_hooks() -> None:
    class Failing(Story):
        I.boom

        async def boom(self, state: Any) -> None:
            raise KeyError("x")

    recorder = Recorder()
    for name in ("before", "after", "error"):
        Failing.register_hook(name, getattr(recorder, name))  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        asyncio.run(Failing()(State()))  # type: ignore[arg-type]
    assert recorder.calls == ["before boom", "error boom: KeyError('x')", "after boom"]


def test_state_copies_mutable_class_defaults() -> None:
    class CartState(State):
        items: list[str] = []
        total: float = 0.0

    first, second = CartState(), CartState(total=3.0)
    first.items.append("lamp")
    assert second.items == []
    assert second.total == 3.0
    assert CartState.items == []


def test_subclass_without_steps_inherits_them() -> None:
    base = make_story()

    class Audited(base):  # type: ignore[valid-type,misc]
        def ship(self, state: Any) -> None:
            state.log.append("ship audited")

    state = State(log=[], fail_at=None)
    Audited()(state)
    assert state.log == ["reserve", "charge", "ship audited"]


def test_context_renders_the_step_tree_from_each_step_template() -> None:
    story = make_story()()
    context = StoryExecutionContext(story=story)
    assert [info.template for info in context.steps] == ["    I.{step_name}"] * 3
    context.steps[0].template = "    {meta[status]}I.{step_name} [{meta[duration]:.3f}s]"
    context.steps[0].meta.update(status="✓", duration=0.0123)
    context.steps[1].template = "    {meta[status]}I.{step_name}"
    context.steps[1].meta["status"] = "⟳"
    context.steps[2].template = "    {meta[status]}I.{step_name}"  # status not set yet: ""
    assert str(context) == "Checkout:\n    ✓I.reserve [0.012s]\n    ⟳I.charge\n    I.ship"
    assert context[2].step_name == "ship"
    assert context[2].meta["missing"] == ""
    assert context.is_last(context[2])


def test_lenient_story_without_a_step_method_fails_when_run_before_any_step() -> None:
    class Lenient(Story):
        strict_steps = False  # dddkit's behaviour: the class is created
        I.one
        I.two

        def one(self, state: Any) -> None:
            state.log.append("one")

    assert Lenient.I.__steps__ == ["one", "two"]
    state = State(log=[])
    with pytest.raises(StoryDefinitionError) as excinfo:
        Lenient()(state)
    assert excinfo.value.args == (
        "Lenient declares step I.two but has no method 'two'; methods: 'one'",
    )
    assert state.log == []
