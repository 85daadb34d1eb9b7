"""Upcasters registered per (event type, from_version), chained on load."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.eventsourcing.upcasting import UpcasterRegistry, upcaster, upcasters
from toolkit.patterns.exceptions import ValidationError
from toolkit.testing.event_store import FakeEventStore


def test_upcasters_chain_from_the_stored_version_to_the_latest() -> None:
    registry = UpcasterRegistry()
    registry.register("Paid", 1, lambda p: {**p, "currency": "EUR"})
    registry.register("Paid", 2, lambda p: {"amount": {"value": p["total"], "ccy": p["currency"]}})
    store = FakeEventStore(upcasters=registry)
    store.append("o", "Order", "Paid", {"total": 5})
    event = store.load("o")[0]
    assert (event.schema_version, event.payload) == (3, {"amount": {"value": 5, "ccy": "EUR"}})
    assert "Paid" in registry and "Other" not in registry


def test_events_without_upcasters_are_returned_as_stored() -> None:
    store = FakeEventStore(upcasters=UpcasterRegistry())
    stored = store.append("o", "Order", "Paid", {"total": 5})
    assert store.load("o")[0] == stored


def test_registering_the_same_step_twice_is_rejected() -> None:
    registry = UpcasterRegistry()

    def first(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    registry.register("Paid", 1, first)
    with pytest.raises(ValidationError) as info:
        registry.register("Paid", 1, lambda p: p)
    assert info.value.message == (
        "An upcaster for 'Paid' from version 1 is already registered: "
        "test_registering_the_same_step_twice_is_rejected.<locals>.first"
    )
    with pytest.raises(ValidationError) as bad:
        registry.register("Paid", 0, first)
    assert bad.value.message == "from_version must be an integer ≥ 1, not 0"


def test_the_decorator_registers_in_the_process_registry() -> None:
    @upcaster("Decorated.Event", from_version=1)
    def rename(payload: dict[str, Any]) -> dict[str, Any]:
        return {"new": payload["old"]}

    try:
        store = FakeEventStore(upcasters=upcasters)
        store.append("x", "Decorated", "Decorated.Event", {"old": 1})
        assert store.load("x")[0].payload == {"new": 1}
    finally:
        upcasters.unregister("Decorated.Event", 1)
