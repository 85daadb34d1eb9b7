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
    "cqrs": ("toolkit.cqrs.conf", "CQRS_DEFAULTS"),
}


SOURCES = "toolkit/conf.py and the sub-packages"


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


def on_page_markdown(markdown: str, *, page: Any, config: Any, files: Any) -> str:
    """Fill the benchmarks page; warn (so ``--strict`` fails) on undocumented settings."""
    if PERFORMANCE_MARKER in markdown:
        markdown = markdown.replace(PERFORMANCE_MARKER, readme_performance())
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
