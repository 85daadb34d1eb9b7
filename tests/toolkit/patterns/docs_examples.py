"""Run the ```python blocks of a docs page in order, in one namespace (```py blocks are
illustrations that need the reader's own models and are not run)."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs" / "patterns"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def run_page(name: str, *, root: Path = DOCS) -> dict:
    """Execute every runnable block of ``docs/patterns/<name>`` (or ``root/<name>``); return
    the namespace."""
    text = (root / name).read_text()
    blocks = BLOCK.findall(text)
    assert blocks, f"no ```python blocks in {name}"
    namespace: dict = {"__name__": f"docs_{name.removesuffix('.md')}"}
    for number, block in enumerate(blocks, 1):
        # dont_inherit: this module's ``from __future__ import annotations`` must not leak
        # into the page's code (it turns @dataclass field annotations into strings).
        code = compile(block, f"docs/patterns/{name} block {number}", "exec", dont_inherit=True)
        exec(code, namespace)  # our own documentation pages
    return namespace
