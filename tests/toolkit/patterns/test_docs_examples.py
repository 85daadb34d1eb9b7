"""The helper that runs the ```python blocks of the docs pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.toolkit.patterns.docs_examples import run_page

PAGE = """# A page

```python
from dataclasses import dataclass


@dataclass
class Point:
    x: int
    y: int = 0
```

```py
this = "is an illustration and never runs"(
```

```python
point = Point(1)
```
"""


def test_page_blocks_run_in_one_namespace_without_this_modules_future_import(
    tmp_path: Path,
) -> None:
    # A @dataclass in a page fails if the helper's own ``from __future__ import annotations``
    # leaks into the compiled blocks (string annotations, module not in sys.modules).
    (tmp_path / "page.md").write_text(PAGE)
    namespace = run_page("page.md", root=tmp_path)
    assert namespace["point"] == namespace["Point"](1, 0)
    assert namespace["Point"].__annotations__ == {"x": int, "y": int}


def test_page_without_runnable_blocks_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("# Nothing to run\n")
    with pytest.raises(AssertionError) as info:
        run_page("empty.md", root=tmp_path)
    assert str(info.value).startswith("no ```python blocks in empty.md")
