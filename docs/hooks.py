"""MkDocs hooks: set Django up for mkdocstrings, and keep the settings reference honest.

mkdocstrings reads the code mostly statically (griffe), but modules it has to inspect import
Django models, which needs ``DJANGO_SETTINGS_MODULE`` and ``django.setup()`` first.

``docs/benchmarks.md`` mirrors the README's Performance section: the hook copies it in at build
time (``<!-- readme:performance -->``), so the two never disagree.

The settings check turns a ``TOOLKIT`` key that ``docs/settings.md`` does not mention into a
warning, which ``mkdocs build --strict`` (``make docs``) turns into a failed build.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.toolkit")

ROOT = Path(__file__).resolve().parent.parent


def on_startup(*, command: str, dirty: bool) -> None:
    """Make the checkout importable and configure Django once per MkDocs run."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    import django

    django.setup()


#: Sections whose keys and defaults live in their sub-package, not in ``toolkit/conf.py``.
SUBPACKAGE_DEFAULTS: dict[str, tuple[str, str]] = {
    "eventsourcing": ("toolkit.eventsourcing.config", "DEFAULTS"),
}


SOURCES = "toolkit/conf.py and the sub-packages"


def _nav_pages(items: Any) -> set[str]:
    """Every page path named anywhere in a (nested) ``nav`` config value."""
    found: set[str] = set()
    if isinstance(items, str):
        found.add(items)
    elif isinstance(items, list):
        for item in items:
            found |= _nav_pages(item)
    elif isinstance(items, dict):
        for value in items.values():
            found |= _nav_pages(value)
    return found


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip().replace("`", "")
    return path.stem.replace("_", " ").replace("-", " ").capitalize()


def on_config(config: Any) -> Any:
    """List pages missing from ``nav`` under *More*, so a new page is never unreachable.

    Pages are meant to be placed in ``mkdocs.yml`` by hand; this only catches the ones added
    after the last nav update (logged, so the build output says which).
    """
    nav = config.get("nav")
    if not nav:
        return config
    docs_dir = Path(config["docs_dir"])
    listed = _nav_pages(nav)
    missing = sorted(
        str(path.relative_to(docs_dir)).replace(os.sep, "/")
        for path in docs_dir.rglob("*.md")
        if str(path.relative_to(docs_dir)).replace(os.sep, "/") not in listed
    )
    if missing:
        log.info("Pages not in mkdocs.yml nav, listed under 'More': %s", ", ".join(missing))
        nav.append({"More": [{_title(docs_dir / page): page} for page in missing]})
    return config


def _documented_keys() -> list[tuple[str, str]]:
    """Every ``(section, key)`` pair of the ``TOOLKIT`` setting the code knows about."""
    from toolkit import conf

    pairs: list[tuple[str, str]] = []
    sections: dict[str, Any] = getattr(conf, "SECTION_DEFAULTS", {})
    for section, defaults in sections.items():
        pairs.append((section, ""))
        keys = dict(defaults)
        if section in SUBPACKAGE_DEFAULTS:
            module_name, attribute = SUBPACKAGE_DEFAULTS[section]
            keys.update(getattr(importlib.import_module(module_name), attribute))
        pairs.extend((section, key) for key in keys)
    return pairs


PERFORMANCE_MARKER = "<!-- readme:performance -->"


def readme_performance() -> str:
    """The README's ``## Performance`` section, without its heading, one heading level down."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.find("\n## Performance")
    if start < 0:
        log.warning("README.md has no '## Performance' section for docs/benchmarks.md")
        return ""
    body = text[start + 1 :].split("\n", 1)[1]
    end = body.find("\n## ")
    if end >= 0:
        body = body[:end]
    lines = [f"#{line}" if line.startswith("### ") else line for line in body.splitlines()]
    return "\n".join(lines).strip() + "\n"


COMMANDS_MARKER = "<!-- management-commands -->"

#: Apps whose management commands the commands page documents, in this order.
COMMAND_APPS = (
    "toolkit",
    "toolkit.cqrs",
    "patterns_admin",
    "demo.shop",
    "demo.allocation",
    "demo.replication",
)


#: Options every Django command has; the page lists only a command's own.
BASE_OPTIONS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}


def _option_name(action: Any) -> str:
    name = ", ".join(action.option_strings) or action.dest
    if action.option_strings and action.nargs != 0:
        name += f" {action.metavar or action.dest.upper()}"
    return name


def _option_rows(parser: Any, prefix: str = "") -> list[str]:
    rows = []
    for action in parser._actions:
        if action.dest in BASE_OPTIONS:
            continue
        if isinstance(action.choices, dict):  # sub-commands: document each one's options
            helps = {a.dest: a.help for a in getattr(action, "_choices_actions", [])}
            for sub_name, sub_parser in action.choices.items():
                about = " ".join(str(helps.get(sub_name) or sub_parser.description or "").split())
                rows.append(f"| `{prefix}{sub_name}` | Sub-command. {about} | |")
                rows.extend(_option_rows(sub_parser, prefix=f"{prefix}{sub_name} "))
            continue
        helptext = " ".join(str(action.help or "").split()).replace("|", "\\|")
        if action.choices:
            helptext += " Choices: " + ", ".join(f"`{c}`" for c in action.choices) + "."
        default = action.default
        shown = "" if default in (None, False, [], "==SUPPRESS==") else f"`{default!r}`"
        rows.append(f"| `{prefix}{_option_name(action)}` | {helptext} | {shown} |")
    return rows


def _usage(name: str, parser: Any) -> str:
    parts = [f"manage.py {name}"]
    for action in parser._actions:
        if action.dest in BASE_OPTIONS:
            continue
        if isinstance(action.choices, dict):
            parts.append("{" + ",".join(action.choices) + "} ...")
        elif action.option_strings:
            parts.append(f"[{_option_name(action).split(', ')[-1]}]")
        else:
            parts.append(f"[{action.dest} ...]" if action.nargs in ("*", "?") else action.dest)
    return " ".join(parts)


def management_commands() -> str:
    """A section per management command of our apps: its help text and its own options."""
    from django.apps import apps
    from django.core.management import find_commands, load_command_class

    sections: list[str] = []
    for label in COMMAND_APPS:
        config = next((c for c in apps.get_app_configs() if c.name == label), None)
        if config is None:
            continue
        for name in sorted(find_commands(str(Path(config.path) / "management"))):
            command = load_command_class(config.name, name)
            parser = command.create_parser("manage.py", name)
            summary = " ".join(str(command.help).split()) or f"The {name} command."
            # "TOOLKIT['outbox']['broker_url']" is text, not a Markdown reference link.
            summary = summary.replace("[", "\\[").replace("]", "\\]")
            rows = _option_rows(parser)
            options = (
                "| argument / option | meaning | default |\n| --- | --- | --- |\n" + "\n".join(rows)
                if rows
                else "No options of its own."
            )
            sections.append(
                f"## `{name}`\n\n{summary}\n\n```text\n{_usage(name, parser)}\n```\n\n"
                f"{options}\n\nDefined in `{config.name}`.\n"
            )
    return "\n".join(sections)


def on_page_markdown(markdown: str, *, page: Any, config: Any, files: Any) -> str:
    """Fill generated sections; warn (so ``--strict`` fails) on undocumented settings."""
    if PERFORMANCE_MARKER in markdown:
        markdown = markdown.replace(PERFORMANCE_MARKER, readme_performance())
    if COMMANDS_MARKER in markdown:
        markdown = markdown.replace(COMMANDS_MARKER, management_commands())
    if page.file.src_uri != "settings.md":
        return markdown
    for section, key in _documented_keys():
        needle = f"`{key}`" if key else f'"{section}"'
        if needle not in markdown:
            where = f"TOOLKIT[{section!r}][{key!r}]" if key else f"TOOLKIT[{section!r}]"
            log.warning(
                "docs/settings.md does not document %s (see toolkit/conf.py and the sub-packages)",
                where,
            )
    return markdown


#: A Sphinx cross-reference role left in a docstring, as Markdown renders it:
#: ``:meth:`~toolkit.x.Y.z``` becomes ``:meth:<code>~toolkit.x.Y.z</code>``.
_ROLE = re.compile(
    r":(?:py:)?(class|meth|func|mod|data|attr|exc|obj):<code>(~?)([\w.]+(?:\s*\n\s*[\w.]+)*)"
    r"(\(\))?</code>"
)
#: Any role text still in a page after the conversion: the docs gate fails on it.
_LEFTOVER_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|data|attr|exc|obj):(?:`|<code>)")


def _autoref(match: re.Match[str]) -> str:
    """The role as an mkdocs-autorefs link: resolved when the target is documented, plain
    code otherwise (``optional``). ``~`` shows the last name only, as Sphinx does."""
    _role, short, target, call = match.groups()
    target = re.sub(r"\s+", "", target)  # a docstring may wrap a long dotted path
    title = target.rsplit(".", 1)[-1] if short else target
    return f'<autoref identifier="{target}" optional><code>{title}{call or ""}</code></autoref>'


def convert_roles(html: str) -> str:
    """Turn the docstrings' Sphinx roles (``:class:``, ``:meth:``, ...) into links."""
    return _ROLE.sub(_autoref, html)


def on_page_content(html: str, *, page: Any, config: Any, files: Any) -> str:
    """Render docstring cross-references as links; warn (so ``--strict`` fails) on any role
    that is still literal text, e.g. one whose target is not a dotted name."""
    html = convert_roles(html)
    for leftover in sorted(set(_LEFTOVER_ROLE.findall(html))):
        log.warning("%s: literal Sphinx role %r left in the page", page.file.src_path, leftover)
    return html
