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
    blocks = BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))
    assert blocks, f"no runnable ```python block in docs/{page}"
    # A real module: dataclasses look their class's module up in sys.modules.
    module = types.ModuleType("docs_" + page[:-3])
    sys.modules[module.__name__] = module
    try:
        for number, block in enumerate(blocks, start=1):
            exec(compile(block, f"docs/{page} block {number}", "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


@pytest.mark.django_db(transaction=True)
def test_ddd_page_examples_run() -> None:
    namespace = run_page("ddd.md")
    assert namespace["baskets"].rows == {1: ["lamp"]}  # type: ignore[attr-defined]
