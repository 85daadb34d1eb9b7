"""The Story DSL: a business operation as named steps, run in order on one state object.

Pure Python, no Django. Inspired by proofit404/stories and dddkit's stories::

    @dataclass(frozen=True, slots=True)
    class ShoppingCartStory(Story):
        I.add_item
        I.apply_discount
        I.calculate_total

        class State(State):
            items: list = []
            total: float = 0.0

        def add_item(self, state): ...
        def apply_discount(self, state): ...
        def calculate_total(self, state): ...

    story = ShoppingCartStory()
    state = story.State()
    story(state)

* ``I.<name>`` lines in the class body declare the steps, in order; names starting with ``_``
  are not steps (as in dddkit). A step without a method of that name fails when the class is
  created (:class:`StoryDefinitionError`); with ``strict_steps = False`` (dddkit's behaviour)
  it fails when the story is run, before any step runs.
* A story whose steps are all plain functions runs when called and returns :data:`COMPLETED`,
  which is also awaitable: ``await story(state)`` works for it too (as in dddkit, where code in
  an event loop awaits every story). A story with at least one ``async def`` step returns a
  coroutine from ``story(state)``: await it (its sync steps run in order between the async
  ones).
* Hooks (``before``, ``after`` (also after a failing step), ``error``) are registered per
  story class with :meth:`Story.register_hook` or :func:`toolkit.stories.inject_hooks`.
"""

from __future__ import annotations

import inspect
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Generator, MutableMapping
from dataclasses import dataclass, field
from enum import Enum
from types import SimpleNamespace
from typing import Any, ClassVar, Literal, TypeAlias, get_args

from toolkit.core.exceptions import PatternError, ValidationError

HookName: TypeAlias = Literal["before", "after", "error"]
HOOK_NAMES: tuple[HookName, ...] = get_args(HookName)
Callback: TypeAlias = Callable[["StoryExecutionContext", "StepExecutionInfo"], None]

__all__ = [
    "COMPLETED",
    "HOOK_NAMES",
    "STEP_TEMPLATE",
    "Completed",
    "I",
    "State",
    "StepExecutionInfo",
    "StepMeta",
    "StepStatus",
    "Story",
    "StoryDefinitionError",
    "StoryExecutionContext",
    "UnknownHookType",
]


class StoryDefinitionError(PatternError):
    """Raised when a story class is created with a step that has no method."""

    _fields = ("story", "step", "methods")

    def __init__(self, story: str, step: str, methods: list[str]) -> None:
        self.story = story
        self.step = step
        self.methods = sorted(methods)
        available = ", ".join(repr(m) for m in self.methods) or "none"
        super().__init__(
            f"{story} declares step I.{step} but has no method {step!r}; methods: {available}"
        )


class UnknownHookType(ValidationError, ValueError):
    """Raised by :meth:`Story.register_hook` for a hook type other than before/after/error.

    A ``ValueError`` too, as dddkit raises.
    """


class StepStatus(Enum):
    """Where a step is: shown by :class:`~toolkit.stories.hooks.StatusTracker` as a symbol."""

    RUNNING = "⟳"
    COMPLETED = "✓"
    FAILED = "✗"

    def __str__(self) -> str:
        return self.value


class State(SimpleNamespace):
    """The mutable state a story works on; keyword arguments become attributes.

    Class-level defaults are copied into each instance (shallow copy), so a mutable default
    such as ``items: list = []`` is not shared between two runs.
    """

    def __init__(self, **kwargs: Any) -> None:
        import copy

        defaults: dict[str, Any] = {}
        for klass in reversed(type(self).__mro__):
            if klass in (State, SimpleNamespace, object):
                continue
            for name in getattr(klass, "__annotations__", {}):
                if name in klass.__dict__ and not name.startswith("_"):
                    defaults[name] = copy.copy(klass.__dict__[name])
        super().__init__(**{**defaults, **kwargs})


class Completed:
    """What a story of sync steps returns: the run is over; awaiting it returns ``None``.

    Falsy, and awaitable so that ``await story(state)`` also works where the story ran at once.
    """

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __await__(self) -> Generator[Any, None, None]:
        return None
        yield  # pragma: no cover - makes this a generator; never reached

    def __repr__(self) -> str:
        return "COMPLETED"


#: The single :class:`Completed` instance.
COMPLETED = Completed()


class _Steps:
    """The ``I`` of a story class body: each attribute read declares a step."""

    __slots__ = ("__steps__",)

    def __init__(self) -> None:
        self.__steps__: list[str] = []

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        # As in dddkit, ``I._helper`` declares nothing: private names are never steps.
        if not name.startswith("_"):
            self.__steps__.append(name)
        return name

    def __repr__(self) -> str:
        return f"<steps {', '.join('I.' + s for s in self.__steps__)}>"


class _Outside:
    """``toolkit.stories.I`` outside a story body: ``I.name`` is just ``"name"``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        return name


#: Import it for linters and readers; inside a ``Story`` class body ``I`` records the steps.
I = _Outside()  # noqa: E741


class StepMeta(dict[str, Any]):
    """``StepExecutionInfo.meta``: a dict whose missing keys read as ``""`` (as in dddkit).

    So a ``template`` may name ``{meta[status]}`` before a hook has set it.
    """

    def __missing__(self, key: str) -> str:
        return ""


#: The line of a step before any hook changed it (dddkit's default template).
STEP_TEMPLATE = "    I.{step_name}"


@dataclass(slots=True)
class StepExecutionInfo:
    """One step of one run: dddkit's fields (``step_name``, ``step_index``, ``error``,
    ``template``, ``meta``) plus ``finished``.

    ``str(info)`` is ``template.format_map(...)`` over the fields, as in dddkit: the hooks
    extend the template. :class:`~toolkit.stories.hooks.StatusTracker` puts
    ``{meta[status]}`` in front of ``I.``, :class:`~toolkit.stories.hooks.ExecutionTimeTracker`
    appends `` [{meta[duration]:.3f}s]`` once the step is over, giving
    ``"    ✓I.step_one [0.000s]"``. A custom hook may change ``template`` the same way.
    """

    step_name: str
    step_index: int
    error: BaseException | None = None
    template: str = STEP_TEMPLATE
    meta: dict[str, Any] = field(default_factory=StepMeta)
    finished: bool = False

    def __str__(self) -> str:
        values = StepMeta(
            step_name=self.step_name,
            step_index=self.step_index,
            error=self.error,
            template=self.template,
            meta=StepMeta(self.meta),
            finished=self.finished,
        )
        return self.template.format_map(values)


@dataclass(slots=True)
class StoryExecutionContext:
    """One run of a story: the story, its state, every step's info and shared ``meta``.

    ``str(context)`` is the step tree the logging hook prints::

        HookedStory:
            ✓I.step_one [0.000s]
            ⟳I.step_two
            I.step_three
    """

    story: Story
    state: Any = None
    steps: list[StepExecutionInfo] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    started_at: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        if not self.steps:
            info = StepExecutionInfo
            self.steps = [info(name, index) for index, name in type(self.story).__step_pairs__]

    @property
    def story_name(self) -> str:
        """The story's class name."""
        return type(self.story).__name__

    def __getitem__(self, index: int) -> StepExecutionInfo:
        return self.steps[index]

    def is_last(self, step_info: StepExecutionInfo) -> bool:
        """Whether ``step_info`` is the last step of the story."""
        return step_info.step_index == len(self.steps) - 1

    def __str__(self) -> str:
        return "\n".join([f"{self.story_name}:", *map(str, self.steps)])


_RESERVED = frozenset({"I", "State", "register_hook", "clear_hooks", "steps", "strict_steps"})


class _StoryType(type):
    """Collects the ``I.<step>`` declarations and checks that every step has a method."""

    @classmethod
    def __prepare__(  # type: ignore[override]
        mcs, name: str, bases: tuple[type, ...], **kwargs: Any
    ) -> MutableMapping[str, Any]:
        return {"I": _Steps()}

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> _StoryType:
        collected = namespace.get("I")
        steps: tuple[str, ...] = ()
        if isinstance(collected, _Steps) and collected.__steps__:
            steps = tuple(collected.__steps__)
        else:
            for base in bases:
                steps = tuple(getattr(base, "__steps__", ())) or steps
        namespace["__steps__"] = steps
        namespace["__step_pairs__"] = tuple(enumerate(steps))
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        methods = [
            attr
            for attr in dir(cls)
            if not attr.startswith("_")
            and attr not in _RESERVED
            and inspect.isfunction(getattr(cls, attr))
        ]
        missing = next((step for step in steps if not callable(getattr(cls, step, None))), None)
        problem = None if missing is None else StoryDefinitionError(name, missing, methods)
        cls.__missing_step__ = problem  # type: ignore[attr-defined]
        if problem is not None and getattr(cls, "strict_steps", True):
            raise problem
        previous = namespace.get("__story_hooks__")
        if isinstance(previous, defaultdict):
            # A dataclass(slots=True) rebuild passes the old class's namespace: keep its hooks.
            hooks = previous
        else:
            # Empty until a hook is registered (dddkit's tests assert ``not __step_hooks__``);
            # a subclass starts with a copy of its bases' hooks.
            hooks = defaultdict(list)
            for base in bases:
                for hook_name, callbacks in getattr(base, "__story_hooks__", {}).items():
                    hooks[hook_name].extend(callbacks)
        # ``__step_hooks__`` is dddkit's name for the same dict.
        cls.__story_hooks__ = cls.__step_hooks__ = hooks  # type: ignore[attr-defined]
        if "context_class" in namespace and "__context__cls__" not in namespace:
            cls.__context__cls__ = namespace["context_class"]  # type: ignore[attr-defined]
        cls.__story_is_async__ = any(  # type: ignore[attr-defined]
            inspect.iscoroutinefunction(getattr(cls, step, None)) for step in steps
        )
        return cls


class Story(metaclass=_StoryType):
    """Base class of stories. See the module docstring for the DSL."""

    __slots__ = ()

    I: ClassVar[Any]  # noqa: E741
    __steps__: ClassVar[tuple[str, ...]]
    __step_pairs__: ClassVar[tuple[tuple[int, str], ...]]
    __story_hooks__: ClassVar[defaultdict[str, list[Callback]]]
    #: dddkit's name for :attr:`__story_hooks__` (the same dict).
    __step_hooks__: ClassVar[defaultdict[str, list[Callback]]]
    __story_is_async__: ClassVar[bool]

    #: ``True`` (default): a step without a method fails when the class is created.
    #: ``False`` (dddkit's behaviour): the class is created and the story fails when it is
    #: run, before any step runs.
    strict_steps: ClassVar[bool] = True
    __missing_step__: ClassVar[StoryDefinitionError | None] = None

    #: The context class built for each run; override to add fields.
    context_class: ClassVar[type[StoryExecutionContext]] = StoryExecutionContext
    #: dddkit's name for :attr:`context_class`; setting ``context_class`` in a subclass sets it.
    __context__cls__: ClassVar[type[StoryExecutionContext]] = StoryExecutionContext

    State: ClassVar[type[Any]] = State

    @classmethod
    def register_hook(cls, hook_name: HookName, callback: Callback) -> None:
        """Call ``callback(context, step_info)`` at ``hook_name`` for each step of this story."""
        if hook_name not in HOOK_NAMES:
            # dddkit raises ValueError("Unknown hook type: <name>"); ours is a ValueError too.
            choices = ", ".join(repr(n) for n in sorted(HOOK_NAMES))
            raise UnknownHookType(
                f"Unknown hook type: {hook_name}; valid hook types are: {choices}",
                field="hook_name",
                value=hook_name,
            )
        cls.__story_hooks__[hook_name].append(callback)

    @classmethod
    def clear_hooks(cls) -> None:
        """Remove every hook of this story class."""
        for callbacks in cls.__story_hooks__.values():
            callbacks.clear()

    @classmethod
    def steps(cls) -> tuple[str, ...]:
        """The step names, in order."""
        return cls.__steps__

    def __call__(self, state: Any) -> Coroutine[Any, Any, None] | Completed:
        """Run the steps on ``state``; a story with an async step returns a coroutine.

        A story of sync steps runs now and returns :data:`COMPLETED` (awaitable, falsy).
        """
        cls = type(self)
        if cls.__missing_step__ is not None:
            raise cls.__missing_step__
        if cls.__story_is_async__:
            return self._run_async(state)
        hooks = cls.__story_hooks__
        befores, afters, errors = hooks["before"], hooks["after"], hooks["error"]
        if not (befores or afters or errors):
            for step in cls.__steps__:
                getattr(self, step)(state)
            return COMPLETED
        self._run_sync(state, befores, afters, errors)
        return COMPLETED

    def _run_sync(
        self,
        state: Any,
        befores: list[Callback],
        afters: list[Callback],
        errors: list[Callback],
    ) -> None:
        context = type(self).__context__cls__(story=self, state=state)
        for info in context.steps:
            for hook in befores:
                hook(context, info)
            try:
                getattr(self, info.step_name)(state)
            except Exception as exc:
                info.error = exc
                for hook in errors:
                    hook(context, info)
                raise
            finally:
                info.finished = True
                for hook in afters:
                    hook(context, info)

    async def _run_async(self, state: Any) -> None:
        hooks = type(self).__story_hooks__
        befores, afters, errors = hooks["before"], hooks["after"], hooks["error"]
        context = type(self).__context__cls__(story=self, state=state)
        for info in context.steps:
            for hook in befores:
                hook(context, info)
            try:
                result = getattr(self, info.step_name)(state)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                info.error = exc
                for hook in errors:
                    hook(context, info)
                raise
            finally:
                info.finished = True
                for hook in afters:
                    hook(context, info)
