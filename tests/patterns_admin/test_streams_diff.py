"""nested_diff: field by field at any depth (issue 14, item 4)."""

from __future__ import annotations

from patterns_admin.streams import DiffRow, nested_diff


def test_nested_dicts_and_lists_diff_by_path() -> None:
    before = {"items": {"KB": {"qty": 1}}, "tags": ["a", "b"], "total": "10"}
    after = {"items": {"KB": {"qty": 2}, "MS": {"qty": 1}}, "tags": ["a"], "total": "10"}
    assert nested_diff(before, after) == [
        DiffRow("items.KB.qty", "changed", "1", "2"),
        DiffRow("items.MS", "added", "", '{\n  "qty": 1\n}'),
        DiffRow("tags[1]", "removed", '"b"', ""),
    ]


def test_equal_states_have_no_rows_and_scalars_are_one_row() -> None:
    assert nested_diff({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []
    assert nested_diff(1, 2) == [DiffRow("(state)", "changed", "1", "2")]
