"""``encoded_json`` (the appends' one-pass check) refuses exactly what ``check_json`` refuses,
with the same message, and returns the encoder's text otherwise."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.core.exceptions import ValidationError
from toolkit.core.validation import (
    MAX_DEPTH,
    MAX_INT,
    _flat_plain,
    check_json,
    check_text,
    encoded_json,
)

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def _outcome(func: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return "ok", func(*args, **kwargs)
    except ValidationError as exc:
        return "refused", (exc.args, exc.field)


def _assert_same(value: dict[str, Any]) -> None:
    walked = _outcome(check_json, value, what="payload", owner="E")
    passed = _outcome(encoded_json, value, _encode, what="payload", owner="E")
    if walked[0] == "ok":
        assert passed == ("ok", _encode(value))
    else:
        assert passed == walked


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


circular: dict[str, Any] = {"a": [1]}
circular["a"].append(circular["a"])


@pytest.mark.parametrize(
    "value",
    [
        {"by": 1},
        {"text": "nul \x00 inside"},
        {"key \x00": 1},
        {"s": "lone \ud800 surrogate"},
        {"n": MAX_INT},
        {"n": MAX_INT + 1},
        {"n": -MAX_INT - 2},
        {"f": float("nan")},
        {"f": [1.0, float("inf")]},
        {1: "int key"},
        {"t": (1, 2)},
        {"d": object()},
        {"c": circular["a"]},
        {"digits": "12345678901234567890"},
        {"escaped": "\\u0000 is text"},
        _nested(MAX_DEPTH),
        _nested(MAX_DEPTH + 1),
        {"brackets": "[" * (MAX_DEPTH + 5)},
        {"unicode": "café ☕"},
    ],
    ids=[
        "plain",
        "nul",
        "nul-key",
        "surrogate",
        "max-int",
        "too-big",
        "too-small",
        "nan",
        "inf-in-list",
        "int-key",
        "tuple",
        "object",
        "circular",
        "digits-in-text",
        "escaped-backslash",
        "max-depth",
        "too-deep",
        "brackets-in-text",
        "unicode",
    ],
)
def test_the_one_pass_check_agrees_with_the_walk(value: dict[str, Any]) -> None:
    _assert_same(value)


def test_a_cycle_through_the_given_root_is_named_like_the_walk_names_it() -> None:
    given_value: dict[str, Any] = {}
    given_value["self"] = given_value
    with pytest.raises(ValidationError) as walked:
        check_json(given_value, what="payload", owner="E")
    with pytest.raises(ValidationError) as passed:
        encoded_json(dict(given_value), _encode, what="payload", owner="E", given=given_value)
    assert passed.value.args == walked.value.args


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
_json_like = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=5) | st.integers(0, 3), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=5), _json_like, max_size=5))
def test_any_value_is_refused_or_encoded_exactly_as_the_walk_decides(
    value: dict[str, Any],
) -> None:
    _assert_same(value)


class _Text(str):
    """A str subclass: not the exact type the fast path of check_text takes."""


_flat_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.tuples(st.integers())
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=5) | st.integers(0, 3), _flat_scalars, max_size=5))
def test_the_flat_fast_path_accepts_only_what_the_walk_accepts(value: dict[Any, Any]) -> None:
    """check_json skips its walk for a flat dict _flat_plain accepts; wrapped in a list, the
    document takes the walk, which must accept it too."""
    if _flat_plain(value):
        check_json([value], what="payload", owner="E")


@pytest.mark.parametrize(
    "value",
    [
        {"text": "nul \x00 inside"},
        {"key \x00": 1},
        {"s": "lone \ud800 surrogate"},
        {"n": MAX_INT + 1},
        {"n": -MAX_INT - 1},
        {"f": float("nan")},
        {"f": float("-inf")},
        {1: "int key"},
        {"d": object()},
        {_Text("k"): 1},
        {"v": _Text("v")},
        {"t": (1, 2)},
        {"l": []},
        {"unicode": "café"},
    ],
)
def test_the_flat_fast_path_leaves_everything_else_to_the_walk(value: dict[Any, Any]) -> None:
    assert not _flat_plain(value)


@pytest.mark.parametrize(
    ("value", "allow_empty", "message"),
    [
        ("a" * 11, True, "must be at most 10 characters"),
        ("", False, "must be a non-empty string"),
        ("nul\x00", True, "must not contain NUL"),
        ("\ud800", True, "lone surrogate"),
        (b"bytes", True, "must be a string, not bytes"),
        (None, True, "must be a string, not NoneType"),
    ],
)
def test_check_text_refuses_on_the_fast_path_and_off_it(
    value: Any, allow_empty: bool, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        check_text("name", value, max_length=10, allow_empty=allow_empty)


@pytest.mark.parametrize("value", ["", "a" * 10, "café", _Text("sub")])
def test_check_text_returns_storable_text_as_given(value: str) -> None:
    assert check_text("name", value, max_length=10) is value
