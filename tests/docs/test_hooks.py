"""``docs/hooks.py``: the MkDocs hooks that keep the docs true to the code and the README."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page(src_uri: str) -> SimpleNamespace:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri))


def test_settings_page_missing_a_key_logs_a_warning_naming_it(
    hooks: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    broken = text.replace("`event_bus`", "`the bus`")
    with caplog.at_level(logging.WARNING, logger="mkdocs.hooks.toolkit"):
        hooks.on_page_markdown(broken, page=page("settings.md"), config=None, files=None)
    assert [r.getMessage() for r in caplog.records] == [
        "docs/settings.md does not document TOOLKIT['patterns']['event_bus'] "
        "(see toolkit/conf.py and the sub-packages)"
    ]


def test_settings_page_documents_every_toolkit_key(
    hooks: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="mkdocs.hooks.toolkit"):
        hooks.on_page_markdown(text, page=page("settings.md"), config=None, files=None)
    assert caplog.records == []


def test_benchmarks_marker_is_replaced_by_the_readme_performance_section(
    hooks: ModuleType,
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Performance\n", 1)[1].split("\n## ", 1)[0].strip()
    out = hooks.on_page_markdown(
        "# Benchmarks\n\n<!-- readme:performance -->\n",
        page=page("benchmarks.md"),
        config=None,
        files=None,
    )
    assert "<!-- readme:performance -->" not in out
    first_paragraph = section.split("\n\n", 1)[0]
    assert first_paragraph in out
    assert "\n## Development" not in out


def test_commands_page_lists_each_command_with_only_its_own_options(
    hooks: ModuleType,
) -> None:
    on_disk = sorted(
        path.stem
        for package in ("toolkit", "patterns_admin", "demo")
        for path in (ROOT / package).glob("**/management/commands/*.py")
        if not path.stem.startswith("_")
    )
    out = hooks.on_page_markdown(
        "# Commands\n\n<!-- management-commands -->\n",
        page=page("commands.md"),
        config=None,
        files=None,
    )
    headings = [
        line.removeprefix("## `").rstrip("`")
        for line in out.splitlines()
        if line.startswith("## `")
    ]
    assert sorted(headings) == on_disk
    assert "--settings" not in out
    assert "--skip-checks" not in out


def test_pages_missing_from_nav_are_listed_under_more(
    hooks: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "guide").mkdir()
    (tmp_path / "index.md").write_text("# Home\n")
    (tmp_path / "guide" / "new_page.md").write_text("# A `new` page\n")
    config = {"docs_dir": str(tmp_path), "nav": [{"Home": "index.md"}]}
    with caplog.at_level(logging.INFO, logger="mkdocs.hooks.toolkit"):
        hooks.on_config(config)
    assert config["nav"] == [{"Home": "index.md"}, {"More": [{"A new page": "guide/new_page.md"}]}]
    assert [r.getMessage() for r in caplog.records] == [
        "Pages not in mkdocs.yml nav, listed under 'More': guide/new_page.md"
    ]


def test_docstring_roles_become_autorefs_links(hooks: ModuleType) -> None:
    html = (
        "<p>See :class:<code>~toolkit.core.bus.Engine</code>, "
        ":meth:<code>EventStore.append_batch</code> and :func:<code>toolkit.x.run()</code>.</p>"
        "<p>:func:<code>~toolkit.eventsourcing.\nretry</code></p>"
    )
    assert hooks.convert_roles(html) == (
        '<p>See <autoref identifier="toolkit.core.bus.Engine" optional><code>Engine</code>'
        '</autoref>, <autoref identifier="EventStore.append_batch" optional>'
        "<code>EventStore.append_batch</code></autoref> and "
        '<autoref identifier="toolkit.x.run" optional><code>toolkit.x.run()</code></autoref>.</p>'
        '<p><autoref identifier="toolkit.eventsourcing.retry" optional><code>retry</code>'
        "</autoref></p>"
    )


def test_a_role_left_literal_logs_a_warning_so_the_strict_build_fails(
    hooks: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    api_page = SimpleNamespace(file=SimpleNamespace(src_path="api/patterns.md"))
    with caplog.at_level(logging.WARNING, logger="mkdocs.hooks.toolkit"):
        html = hooks.on_page_content(
            "<p>:class:<code>fine.Name</code> but :meth:`not rendered` and :func:<code>a b</code>;"
            " a page about the roles may name <code>:class:</code> itself</p>",
            page=api_page,
            config={},
            files=None,
        )
    assert '<autoref identifier="fine.Name" optional>' in html
    assert [r.getMessage() for r in caplog.records] == [
        "api/patterns.md: literal Sphinx role ':func:<code>' left in the page",
        "api/patterns.md: literal Sphinx role ':meth:`' left in the page",
    ]
