"""The public API of toolkit.ddd and toolkit.stories, and imports without django.setup()."""

from __future__ import annotations

import subprocess
import sys

import pytest

import toolkit.ddd
import toolkit.ddd.dataclasses
import toolkit.ddd.pydantic
import toolkit.stories


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            toolkit.ddd,
            [
                "Aggregate",
                "AggregateEvent",
                "ChangesHandler",
                "Dispatched",
                "DomainEvent",
                "Entity",
                "EventBroker",
                "EventSourced",
                "ImmutableValueObject",
                "MissingDependency",
                "MissingDependencyError",
                "Repository",
                "ValueObject",
            ],
        ),
        (
            toolkit.ddd.dataclasses,
            [
                "Aggregate",
                "AggregateEvent",
                "ChangesHandler",
                "DomainEvent",
                "Entity",
                "EventBroker",
                "Repository",
                "ValueObject",
            ],
        ),
        (
            toolkit.ddd.pydantic,
            [
                "Aggregate",
                "AggregateEvent",
                "ChangesHandler",
                "DomainEvent",
                "Entity",
                "EventBroker",
                "Repository",
                "ValueObject",
            ],
        ),
        (
            toolkit.stories,
            [
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
            ],
        ),
    ],
    ids=["ddd", "ddd.dataclasses", "ddd.pydantic", "stories"],
)
def test_exported_names_are_sorted_and_importable(module: object, names: list[str]) -> None:
    assert module.__all__ == names  # type: ignore[attr-defined]
    for name in names:
        assert getattr(module, name) is not None


def test_flavours_share_broker_and_repository() -> None:
    assert toolkit.ddd.dataclasses.EventBroker is toolkit.ddd.pydantic.EventBroker
    assert toolkit.ddd.dataclasses.Repository is toolkit.ddd.pydantic.Repository
    assert toolkit.ddd.Aggregate is toolkit.ddd.dataclasses.Aggregate


def run_python(code: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": "."}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout


def test_packages_import_without_django_setup() -> None:
    code = (
        "import toolkit.ddd, toolkit.ddd.pydantic, toolkit.stories, toolkit.stories.prometheus\n"
        "from toolkit.ddd import EventBroker, ValueObject\n"
        "class V(ValueObject):\n"
        "    x: int\n"
        "b = EventBroker(); seen = []\n"
        "b.subscribe(V, seen.append)\n"
        "b(V(x=1)); print(seen)\n"
    )
    assert run_python(code) == "[V(x=1)]\n"


@pytest.mark.parametrize(
    ("package", "module", "extra", "install"),
    [
        ("prometheus_client", "toolkit.stories.prometheus", "prometheus", "prometheus-client"),
        ("aioprometheus", "toolkit.stories.aioprometheus", "aioprometheus", "aioprometheus"),
    ],
)
def test_missing_metrics_package_names_the_install_command(
    package: str, module: str, extra: str, install: str
) -> None:
    code = (
        f"import sys; sys.modules[{package!r}] = None\n"
        f"try:\n    import {module}\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    assert run_python(code) == (
        f"Package {package!r} is not installed but required. You can install it by running "
        f"`pip install 'django-pattern-toolkit[{extra}]'` to install the toolkit with the "
        f"required extra or 'pip install {install}' to install the package separately\n"
    )


def test_missing_dependency_error_takes_dddkits_arguments() -> None:
    from toolkit.ddd.exceptions import MissingDependency, MissingDependencyError

    error = MissingDependencyError("prometheus_client", "prometheus-client", "prometheus")
    assert isinstance(error, ImportError)
    assert MissingDependency is MissingDependencyError
    assert (error.package, error.install_package, error.extra) == (
        "prometheus_client",
        "prometheus-client",
        "prometheus",
    )
    assert "pip install 'django-pattern-toolkit[prometheus]'" in str(error)
    assert "'pip install prometheus-client'" in str(error)
    assert MissingDependencyError("yaml", extra="yaml").install_package == "yaml"
