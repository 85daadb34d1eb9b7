"""The one typed registry: refuses a second, different class under a taken name."""

from __future__ import annotations

import types

import pytest

from toolkit import registry
from toolkit.core.registry import Registry, RegistryError, dotted_path


def make_class(module: str, name: str) -> type:
    """A class whose dotted path is ``module.name``, as if defined in that module."""
    return types.new_class(name, (), {}, lambda ns: ns.update({"__module__": module}))


def test_dotted_path_of_class_instance_and_function() -> None:
    cls = make_class("shop.machines", "OrderMachine")

    def handler() -> None: ...

    assert dotted_path(cls) == "shop.machines.OrderMachine"
    assert dotted_path(cls()) == "shop.machines.OrderMachine"
    assert dotted_path(handler) == (
        f"{__name__}.test_dotted_path_of_class_instance_and_function.<locals>.handler"
    )


def test_second_different_class_under_one_name_is_refused_naming_both() -> None:
    machines: Registry[type] = Registry("state machine")
    shop = make_class("shop.machines", "OrderMachine")
    billing = make_class("billing.machines", "OrderMachine")
    machines.register("OrderMachine", shop)

    with pytest.raises(RegistryError) as exc_info:
        machines.register("OrderMachine", billing)

    assert exc_info.value.args == (
        "State machine 'OrderMachine' is already registered: "
        "shop.machines.OrderMachine; refusing billing.machines.OrderMachine. Give one of "
        "them another name, or register with replace=True to replace it.",
    )
    assert machines.get("OrderMachine") is shop


def test_replace_true_replaces_a_different_class() -> None:
    machines: Registry[type] = Registry("state machine")
    shop = make_class("shop.machines", "OrderMachine")
    billing = make_class("billing.machines", "OrderMachine")
    machines.register("OrderMachine", shop)

    assert machines.register("OrderMachine", billing, replace=True) is billing
    assert machines.get("OrderMachine") is billing


def test_same_dotted_path_replaces_silently_like_a_reloaded_module() -> None:
    machines: Registry[object] = Registry("state machine")
    first = make_class("shop.machines", "OrderMachine")
    reloaded = make_class("shop.machines", "OrderMachine")
    machines.register("order", first())
    machines.register("order", first())  # another instance of the same class
    new = machines.register("order", reloaded())

    assert machines.get("order") is new
    assert len(machines) == 1


def test_unknown_name_lists_the_registered_names_sorted() -> None:
    kinds: Registry[int] = Registry("projection")
    kinds.register("totals", 1)
    kinds.register("daily", 2)

    with pytest.raises(RegistryError) as exc_info:
        kinds.get("weekly")

    assert exc_info.value.args == ("No projection named 'weekly'; registered: 'daily', 'totals'",)
    assert list(kinds) == ["daily", "totals"]
    assert kinds.values() == [2, 1]
    kinds.unregister("daily")
    kinds.unregister("never-registered")
    assert "daily" not in kinds and "totals" in kinds


def test_toolkit_registries_are_instances_of_the_one_registry() -> None:
    for reg in (registry.machines, registry.commands, registry.aggregates, registry.projections):
        assert isinstance(reg, Registry)
    assert registry.Registry is Registry and registry.RegistryError is RegistryError


def test_two_aggregates_with_one_type_name_in_two_modules_are_refused() -> None:
    from toolkit.eventsourcing import Aggregate

    namespace: dict[str, object] = {"__name__": "shop.aggregates", "Aggregate": Aggregate}
    exec("class Basket(Aggregate):\n    pass\n", namespace)
    try:
        other: dict[str, object] = {"__name__": "billing.aggregates", "Aggregate": Aggregate}
        taken = r"^Aggregate type 'Basket' is already registered: shop.aggregates.Basket; "
        with pytest.raises(RegistryError, match=taken):
            exec("class Basket(Aggregate):\n    pass\n", other)
        assert registry.aggregates.get("Basket") is namespace["Basket"]
    finally:
        registry.aggregates.unregister("Basket")
