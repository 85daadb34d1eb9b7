"""The docs' code examples run as written.

Convention for every page: a ```` ```python ```` block is runnable (the blocks of a page run in
order, in one namespace, against the test database); a ```` ```py ```` block is an illustration
that needs the reader's own models or request. Pattern pages are run by the tests of their
pattern (``tests/toolkit/patterns/docs_examples.py``); this module runs the general pages and
checks that no pattern page is left without a runnable, tested example.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)

#: Pages whose ```python blocks this module runs (no pattern's own tests run them).
GENERAL_PAGES = [
    "quickstart/developer.md",
    "quickstart/operator.md",
    "patterns/event_store.md",
]


def blocks(page: str) -> list[str]:
    return BLOCK.findall((DOCS / page).read_text(encoding="utf-8"))


def test_every_pattern_page_has_a_runnable_example_that_a_test_runs() -> None:
    test_sources = "\n".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("*.py")
    )
    pages = sorted(p.name for p in (DOCS / "patterns").glob("*.md") if p.name != "index.md")
    without_example = [name for name in pages if not blocks(f"patterns/{name}")]
    untested = [name for name in pages if f'{name}"' not in test_sources]
    assert (without_example, untested) == ([], [])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page", GENERAL_PAGES)
def test_general_page_examples_run(page: str) -> None:
    code_blocks = blocks(page)
    assert code_blocks, f"no runnable ```python block in docs/{page}"
    namespace: dict[str, object] = {"__name__": "docs_" + page.replace("/", "_")[:-3]}
    for number, block in enumerate(code_blocks, start=1):
        exec(compile(block, f"docs/{page} block {number}", "exec"), namespace)
