"""Specification: composition in memory and in SQL, JSON round trip, clear errors."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.db.models import Q

from tests.toolkit.patterns.docs_examples import run_page
from toolkit.patterns.exceptions import SpecificationError
from toolkit.patterns.specification import (
    AndSpecification,
    NotSpecification,
    OrSpecification,
    Specification,
)


@dataclass
class Row:
    status: str = "active"
    tier: str = "standard"
    total: int = 0


class ActiveSpec(Specification):
    def is_satisfied_by(self, entity) -> bool:
        return entity.status == "active"

    def to_query(self) -> Q:
        return Q(status="active")


class TierSpec(Specification):
    def __init__(self, tier: str) -> None:
        self.tier = tier

    def is_satisfied_by(self, entity) -> bool:
        return entity.tier == self.tier

    def to_query(self) -> Q:
        return Q(tier=self.tier)


class MinTotal(Specification):
    def __init__(self, amount: int, *, inclusive: bool = True) -> None:
        if amount < 0:
            raise ValueError(f"amount must not be negative, got {amount}")
        self.amount = amount
        self.inclusive = inclusive

    def is_satisfied_by(self, entity) -> bool:
        return entity.total >= self.amount if self.inclusive else entity.total > self.amount

    def to_query(self) -> Q:
        return Q(total__gte=self.amount) if self.inclusive else Q(total__gt=self.amount)


class InMemoryOnly(Specification):
    def is_satisfied_by(self, entity) -> bool:
        return True


MIN = "tests.toolkit.patterns.test_specification.MinTotal"


def roundtrip(spec: Specification) -> Specification:
    return Specification.from_dict(json.loads(json.dumps(spec.to_dict())))


def test_and_or_not_compose_in_memory() -> None:
    premium_active = Row(status="active", tier="premium")
    standard_active = Row(status="active")
    premium_closed = Row(status="closed", tier="premium")
    spec = ActiveSpec() & TierSpec("premium")
    assert [spec.is_satisfied_by(r) for r in (premium_active, standard_active)] == [True, False]
    either = ActiveSpec() | TierSpec("premium")
    assert either.is_satisfied_by(premium_closed) is True
    assert (~ActiveSpec()).is_satisfied_by(premium_closed) is True


def test_composed_to_query_combines_q_objects() -> None:
    spec = (ActiveSpec() & TierSpec("premium")) | ~MinTotal(10)
    assert spec.to_query() == (Q(status="active") & Q(tier="premium")) | ~Q(total__gte=10)


def test_chained_and_is_flat() -> None:
    spec = ActiveSpec() & TierSpec("a") & MinTotal(1)
    assert isinstance(spec, AndSpecification)
    assert spec.specs == (ActiveSpec(), TierSpec("a"), MinTotal(1))


def test_round_trip_with_constructor_arguments_needs_no_override() -> None:
    spec = (ActiveSpec() & TierSpec("premium")) | ~MinTotal(100, inclusive=False)
    restored = roundtrip(spec)
    assert restored == spec
    assert isinstance(restored, OrSpecification)
    assert restored.to_query() == spec.to_query()
    assert restored.is_satisfied_by(Row(status="closed", total=100)) is True


def test_to_dict_shape() -> None:
    assert (TierSpec("gold") & ~ActiveSpec()).to_dict() == {
        "spec": "and",
        "args": [
            {
                "$spec": {
                    "spec": "tests.toolkit.patterns.test_specification.TierSpec",
                    "args": ["gold"],
                    "kwargs": {},
                }
            },
            {
                "$spec": {
                    "spec": "not",
                    "args": [
                        {
                            "$spec": {
                                "spec": "tests.toolkit.patterns.test_specification.ActiveSpec",
                                "args": [],
                                "kwargs": {},
                            }
                        }
                    ],
                    "kwargs": {},
                }
            },
        ],
        "kwargs": {},
    }


def test_from_dict_reads_the_format_dmr_toolkit_0_1_0_wrote() -> None:
    # dmr-toolkit 0.1.0's to_dict: {"type": "module.QualName", "kwargs": {...}} and
    # {"type": "and"/"or", "left": ..., "right": ...} / {"type": "not", "operand": ...}.
    active = {"type": f"{__name__}.ActiveSpec", "kwargs": {}}
    gold = {"type": f"{__name__}.TierSpec", "kwargs": {"tier": "gold"}}
    stored = {"type": "and", "left": active, "right": {"type": "not", "operand": gold}}
    spec = Specification.from_dict(json.loads(json.dumps(stored)))
    assert spec == ActiveSpec() & ~TierSpec(tier="gold")
    assert spec.is_satisfied_by(Row(tier="silver")) and not spec.is_satisfied_by(Row(tier="gold"))
    either = Specification.from_dict({"type": "or", "left": active, "right": gold})
    assert either == ActiveSpec() | TierSpec(tier="gold")


def test_published_format_errors_name_the_node() -> None:
    with pytest.raises(SpecificationError) as excinfo:
        Specification.from_dict({"type": "and", "left": {"type": "x.Y"}})
    assert str(excinfo.value) == (
        "specification: a 'and' node needs 'left', 'right'; missing 'right'"
    )


def test_dataclass_specification_round_trips() -> None:
    @dataclass(eq=False)
    class StatusIn(Specification):
        statuses: list

        def is_satisfied_by(self, entity) -> bool:
            return entity.status in self.statuses

    spec = StatusIn(["active", "paid"])
    assert roundtrip(spec) == spec
    assert roundtrip(spec).is_satisfied_by(Row(status="paid")) is True


def test_bare_class_name_is_accepted_when_unique() -> None:
    assert Specification.from_dict({"spec": "TierSpec", "args": ["gold"]}) == TierSpec("gold")


def test_unknown_spec_lists_known_names() -> None:
    with pytest.raises(SpecificationError) as excinfo:
        Specification.from_dict({"spec": "Nope", "args": []})
    message = str(excinfo.value)
    assert message.startswith("specification: unknown specification 'Nope'; known: 'and', ")
    assert "'tests.toolkit.patterns.test_specification.MinTotal'" in message
    assert excinfo.value.data == {"spec": "Nope", "args": []}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1], "specification: expected a dict with keys 'spec', 'args', 'kwargs', not [1]"),
        ({"args": []}, "specification: missing the 'spec' key (the specification name)"),
        (
            {"spec": MIN, "extra": 1},
            "specification: unexpected key(s) 'extra'; valid keys are: 'args', 'kwargs', 'spec'",
        ),
        ({"spec": MIN, "args": 5}, "specification: 'args' must be a list, not 5"),
        (
            {"spec": MIN, "args": [1], "kwargs": []},
            "specification: 'kwargs' must be a dict with string keys, not []",
        ),
        (
            {"spec": MIN, "args": []},
            "specification (MinTotal): arguments do not match "
            "MinTotal(amount: 'int', *, inclusive: 'bool' = True): "
            "missing a required argument: 'amount'",
        ),
        (
            {"spec": MIN, "args": [-1]},
            "specification (MinTotal): MinTotal(amount: 'int', *, inclusive: 'bool' = True) "
            "rejected the arguments: ValueError: amount must not be negative, got -1",
        ),
    ],
    ids=["not-a-dict", "no-spec", "extra-key", "args", "kwargs", "signature", "rejected"],
)
def test_malformed_dicts_raise_specification_error(data, message) -> None:
    with pytest.raises(SpecificationError) as excinfo:
        Specification.from_dict(data)
    assert str(excinfo.value) == message


def test_nested_error_names_its_path() -> None:
    data = {"spec": "not", "args": [{"$spec": {"spec": "Missing"}}]}
    with pytest.raises(SpecificationError, match=r"^specification \(NotSpecification\)\.args\[0\]"):
        Specification.from_dict(data)


def test_to_dict_rejects_non_json_arguments() -> None:
    with pytest.raises(SpecificationError) as excinfo:
        TierSpec(object).to_dict()  # type: ignore[arg-type]
    assert str(excinfo.value) == (
        "TierSpec argument 0 is <class 'object'> (type), which is not JSON-serialisable; "
        "use JSON values (str, int, float, bool, None, list, dict) or specifications"
    )


def test_spec_without_to_query_says_so() -> None:
    with pytest.raises(SpecificationError, match="InMemoryOnly defines no to_query"):
        InMemoryOnly().to_query()


def test_combining_with_non_spec_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Cannot combine a specification with 3 using '&'"):
        ActiveSpec() & 3  # type: ignore[operator]


def test_repr_and_equality() -> None:
    assert repr(ActiveSpec() & ~MinTotal(5, inclusive=False)) == (
        "(ActiveSpec() & ~MinTotal(5, inclusive=False))"
    )
    assert MinTotal(5) != MinTotal(6)
    assert hash(MinTotal(5)) == hash(MinTotal(5))
    assert isinstance(~ActiveSpec(), NotSpecification)


def test_docs_page_examples_run() -> None:
    run_page("specification.md")


def test_spec_name_collision_names_both_classes() -> None:
    with pytest.raises(TypeError) as excinfo:

        class Clash(Specification):
            spec_name = "and"

            def is_satisfied_by(self, entity) -> bool:
                return True

    assert str(excinfo.value) == (
        "spec_name 'and' of tests.toolkit.patterns.test_specification."
        "test_spec_name_collision_names_both_classes.<locals>.Clash is already used by "
        "toolkit.patterns.specification.AndSpecification; give one of them another spec_name"
    )
    assert Specification.from_dict((ActiveSpec() & ActiveSpec()).to_dict()) == (
        ActiveSpec() & ActiveSpec()
    )
