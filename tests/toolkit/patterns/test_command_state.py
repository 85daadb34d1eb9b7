"""JSON encoding of command results and undo state: model references and fallbacks."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from toolkit.patterns.command_state import decode_state, decode_value, encode_value, to_json


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("text", "text"),
        (3, 3),
        (2.5, 2.5),
        (True, True),
        ([1, "a"], [1, "a"]),
        ((1, 2), [1, 2]),
        ({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}),
        (Decimal("9.99"), "9.99"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_json_values_encode_as_themselves(value, expected) -> None:
    assert encode_value(value, fallback=False) == expected
    assert encode_value(value, fallback=True) == expected


def test_unencodable_values_fall_back_to_repr_or_none() -> None:
    thing = object()
    assert encode_value(thing, fallback=True) == {"repr": repr(thing)}
    assert encode_value(thing, fallback=False) is None
    assert encode_value([1, thing], fallback=False) is None
    assert encode_value({"k": thing}, fallback=False) is None
    assert encode_value([1, thing], fallback=True) == [1, {"repr": repr(thing)}]
    assert encode_value({1: "int key"}, fallback=True) == {"1": "int key"}  # as JSON does


def test_unsaved_model_is_not_a_reference() -> None:
    group = Group(name="unsaved")
    assert encode_value(group, fallback=False) is None
    assert encode_value(group, fallback=True) == {"repr": "<Group: unsaved>"}


@pytest.mark.django_db
def test_model_references_round_trip_and_vanish_with_the_row() -> None:
    group = Group.objects.create(name="editors")
    encoded = encode_value({"group": group, "groups": [group]}, fallback=False)
    ref = {"__model__": "auth.group", "pk": str(group.pk)}
    assert encoded == {"group": ref, "groups": [ref]}
    assert decode_state(encoded) == {"group": group, "groups": [group]}
    group.delete()
    assert decode_value(ref) is None


def test_to_json_rejects_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError):
        to_json({1, 2})
    with pytest.raises(ValueError):
        to_json(float("nan"))
