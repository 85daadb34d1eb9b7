"""Pricing strategies: how an order's total is computed from its subtotal."""

from __future__ import annotations

from abc import abstractmethod
from decimal import ROUND_HALF_UP, Decimal

from toolkit.patterns.strategy import Strategy

_CENT = Decimal("0.01")


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


class PricingStrategy(Strategy):
    """Turn a subtotal into the amount charged; resolved by name (``"standard"``, ...)."""

    @abstractmethod
    def execute(self, subtotal: Decimal) -> Decimal:
        """Return the total to charge for ``subtotal``, rounded to cents."""


@PricingStrategy.register("standard")
class StandardPricing(PricingStrategy):
    """The subtotal as is."""

    def execute(self, subtotal: Decimal) -> Decimal:
        return _money(subtotal)


@PricingStrategy.register("member")
class MemberPricing(PricingStrategy):
    """Loyalty members pay 5% less."""

    def execute(self, subtotal: Decimal) -> Decimal:
        return _money(subtotal * Decimal("0.95"))


@PricingStrategy.register("bulk")
class BulkPricing(PricingStrategy):
    """10% off the part of the subtotal above 500."""

    def execute(self, subtotal: Decimal) -> Decimal:
        threshold = Decimal("500")
        if subtotal <= threshold:
            return _money(subtotal)
        return _money(threshold + (subtotal - threshold) * Decimal("0.90"))


def price(subtotal: Decimal, strategy: str = "standard") -> Decimal:
    """Price ``subtotal`` with the strategy named ``strategy`` (StrategyNotFound if unknown)."""
    return PricingStrategy.resolve(strategy)().execute(subtotal)
