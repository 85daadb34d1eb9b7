"""``StrategyTestCase``: a fresh strategy registry for every test."""

from __future__ import annotations

import unittest
from typing import ClassVar

from toolkit.patterns.strategy import Strategy

__all__ = ["StrategyTestCase"]


class StrategyTestCase(unittest.TestCase):
    """Give each test an empty registry for ``strategy_class``, restored afterwards.

    Registrations made in a test do not leak into others, and the application's own
    registrations are back once the test ends. Set ``keep_registered = True`` to start from a
    copy of the current registrations instead of an empty registry. Subclasses that override
    ``setUp`` call ``super().setUp()``.

    ::

        class TestPricing(StrategyTestCase):
            strategy_class = PricingStrategy

            def test_resolve(self):
                PricingStrategy.register("test")(FakePricing)
                assert PricingStrategy.resolve("test") is FakePricing
    """

    strategy_class: ClassVar[type[Strategy] | None] = None
    keep_registered: ClassVar[bool] = False

    def setUp(self) -> None:
        super().setUp()
        strategy_class = type(self).strategy_class
        if strategy_class is None:
            raise TypeError(f"{type(self).__name__} must set strategy_class to a Strategy family")
        saved = dict(strategy_class._registry())
        strategy_class._strategies = dict(saved) if self.keep_registered else {}

        def restore() -> None:
            strategy_class._strategies = saved

        self.addCleanup(restore)
