"""CSV cells: JSON for structures, ISO for datetimes, spreadsheet formulas neutralised."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from patterns_admin.export import cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "True"),
        (42, "42"),
        (-1.5, "-1.5"),
        ({"b": 1, "a": [1, 2]}, '{"a": [1, 2], "b": 1}'),
        ([], "[]"),
        (datetime(2026, 11, 23, 16, 0, tzinfo=UTC), "2026-11-23T16:00:00+00:00"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("plain text", "plain text"),
        ("naïve – ünïcode", "naïve – ünïcode"),
    ],
    ids=[
        "none",
        "bool",
        "int",
        "negative-number",
        "dict-sorted",
        "list",
        "datetime",
        "formula",
        "plus",
        "minus",
        "at",
        "text",
        "unicode",
    ],
)
def test_cell(value: Any, expected: str) -> None:
    assert cell(value) == expected
