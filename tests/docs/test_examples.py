"""Every block titled "Runnable example" in the docs runs, as written, against the test database.

Pages mark the examples a reader can paste and run with
```` ```python title="Runnable example" ````; other blocks (settings, sketches) are not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(
    r'^```python title="Runnable example"\n(?P<code>.*?)^```$', re.MULTILINE | re.DOTALL
)


def runnable_examples() -> list[tuple[str, str]]:
    """``(id, code)`` for every runnable example block, in page order."""
    examples = []
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for number, match in enumerate(FENCE.finditer(text), start=1):
            examples.append((f"{page.relative_to(DOCS)}#{number}", match["code"]))
    return examples


EXAMPLES = runnable_examples()


def test_examples_are_found_on_the_pattern_pages() -> None:
    pages = {example_id.split("#")[0] for example_id, _ in EXAMPLES}
    pattern_pages = {str(p.relative_to(DOCS)) for p in sorted((DOCS / "patterns").glob("*.md"))} - {
        "patterns/index.md"
    }
    assert sorted(pattern_pages - pages) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("code", [c for _, c in EXAMPLES], ids=[i for i, _ in EXAMPLES])
def test_runnable_example_runs(code: str) -> None:
    namespace: dict[str, object] = {"__name__": "docs_example"}
    exec(compile(code, "<docs example>", "exec"), namespace)
