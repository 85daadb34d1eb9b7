"""Strategy: per-family registries, resolve errors listing the available names."""

from __future__ import annotations

from abc import abstractmethod

import pytest

from tests.toolkit.patterns.docs_examples import run_page
from toolkit.patterns.exceptions import StrategyNotFound
from toolkit.patterns.strategy import Strategy


class PaymentStrategy(Strategy):
    @abstractmethod
    def pay(self, amount: int) -> str: ...


@PaymentStrategy.register("card")
class CardPayment(PaymentStrategy):
    def pay(self, amount: int) -> str:
        return f"card {amount}"


@PaymentStrategy.register("invoice")
class InvoicePayment(PaymentStrategy):
    def __init__(self, days: int = 30) -> None:
        self.days = days

    def pay(self, amount: int) -> str:
        return f"invoice {amount} in {self.days} days"


class ShippingStrategy(Strategy):
    pass


def test_resolve_returns_registered_class() -> None:
    assert PaymentStrategy.resolve("card") is CardPayment
    assert PaymentStrategy.resolve("card")().pay(5) == "card 5"


def test_resolve_unknown_lists_available_names() -> None:
    with pytest.raises(StrategyNotFound) as excinfo:
        PaymentStrategy.resolve("fast")
    assert str(excinfo.value) == "'fast' is not a PaymentStrategy; available: 'card', 'invoice'"
    assert excinfo.value.name == "fast"
    assert excinfo.value.strategy == "PaymentStrategy"
    assert excinfo.value.available == ("card", "invoice")


def test_families_do_not_share_registries() -> None:
    assert ShippingStrategy.available() == []
    with pytest.raises(StrategyNotFound, match="'card' is not a ShippingStrategy; available: none"):
        ShippingStrategy.resolve("card")


def test_available_is_sorted_and_strategy_name_is_set() -> None:
    assert PaymentStrategy.available() == ["card", "invoice"]
    assert InvoicePayment.strategy_name == "invoice"


def test_create_instantiates_with_arguments() -> None:
    strategy = PaymentStrategy.create("invoice", days=10)
    assert strategy.pay(3) == "invoice 3 in 10 days"


def test_register_rejects_class_outside_the_family() -> None:
    with pytest.raises(TypeError, match="it is not a subclass of PaymentStrategy"):
        PaymentStrategy.register("ship")(ShippingStrategy)
    assert PaymentStrategy.available() == ["card", "invoice"]


def test_register_rejects_taken_name_for_another_class() -> None:
    class Other(PaymentStrategy):
        def pay(self, amount: int) -> str:
            return "other"

    with pytest.raises(ValueError) as excinfo:
        PaymentStrategy.register("card")(Other)
    assert str(excinfo.value) == (
        "'card' is already registered on PaymentStrategy by "
        "tests.toolkit.patterns.test_strategy.CardPayment"
    )
    assert PaymentStrategy.resolve("card") is CardPayment


@pytest.mark.parametrize("name", ["", None, 3], ids=["empty", "none", "int"])
def test_register_rejects_bad_names(name) -> None:
    with pytest.raises(ValueError, match="A strategy name must be a non-empty string"):
        PaymentStrategy.register(name)


def test_unregister_removes_and_unknown_raises() -> None:
    class Temp(ShippingStrategy):
        pass

    ShippingStrategy.register("temp")(Temp)
    ShippingStrategy.unregister("temp")
    assert ShippingStrategy.available() == []
    with pytest.raises(StrategyNotFound):
        ShippingStrategy.unregister("temp")


def test_docs_page_examples_run() -> None:
    run_page("strategy.md")
