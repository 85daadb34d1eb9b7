"""The ```python blocks of docs/ddd.md run as written, in order, in one namespace."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def run_page(page: str) -> dict[str, object]:
    """Execute every ```python block of ``docs/<page>``; return the shared namespace."""
    return run_blocks((DOCS / page).read_text(encoding="utf-8"), page)


def run_blocks(text: str, page: str) -> dict[str, object]:
    """Execute every ```python block of ``text`` in order, in one fresh module."""
    blocks = BLOCK.findall(text)
    assert blocks, f"no runnable ```python block in {page}"
    # A real module: dataclasses look their class's module up in sys.modules.
    module = types.ModuleType("docs_" + re.sub(r"\W", "_", page))
    sys.modules[module.__name__] = module
    try:
        for number, block in enumerate(blocks, start=1):
            exec(compile(block, f"{page} block {number}", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


@pytest.mark.django_db(transaction=True)
def test_ddd_page_examples_run() -> None:
    namespace = run_page("ddd.md")
    assert namespace["baskets"].rows == {1: ["lamp"]}  # type: ignore[attr-defined]


def test_readme_ddd_section_examples_run() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("<!-- section:ddd -->") : readme.index("<!-- /section:ddd -->")]
    namespace = run_blocks(section, "README.md section:ddd")
    assert namespace["Checkout"].steps() == ("reserve", "charge")  # type: ignore[attr-defined]
