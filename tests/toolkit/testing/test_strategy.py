"""StrategyTestCase: each test gets a fresh registry; the real one comes back after."""

from __future__ import annotations

import unittest

import pytest

from toolkit.patterns.exceptions import StrategyNotFound
from toolkit.patterns.strategy import Strategy
from toolkit.testing import StrategyTestCase


class Shipping(Strategy):
    pass


@Shipping.register("post")
class Post(Shipping):
    pass


class Fake(Shipping):
    pass


class TestFreshRegistry(StrategyTestCase):
    strategy_class = Shipping

    def test_registry_starts_empty_and_accepts_registrations(self) -> None:
        assert Shipping.available() == []
        Shipping.register("test")(Fake)
        assert Shipping.resolve("test") is Fake

    def test_registration_of_another_test_did_not_leak(self) -> None:
        with pytest.raises(StrategyNotFound):
            Shipping.resolve("test")


class TestKeepRegistered(StrategyTestCase):
    strategy_class = Shipping
    keep_registered = True

    def test_existing_registrations_are_visible(self) -> None:
        assert Shipping.resolve("post") is Post
        Shipping.register("fake")(Fake)


def test_registry_is_restored_after_the_test_case_runs() -> None:
    suite = unittest.TestSuite(
        [
            TestFreshRegistry("test_registry_starts_empty_and_accepts_registrations"),
            TestKeepRegistered("test_existing_registrations_are_visible"),
        ]
    )
    result = unittest.TextTestRunner(stream=open("/dev/null", "w")).run(suite)  # noqa: SIM115
    assert result.wasSuccessful()
    assert Shipping.available() == ["post"]


def test_missing_strategy_class_is_reported() -> None:
    class NoFamily(StrategyTestCase):
        def test_nothing(self) -> None:
            pass

    result = unittest.TestResult()
    NoFamily("test_nothing").run(result)
    ((_, traceback),) = result.errors
    assert "NoFamily must set strategy_class to a Strategy family" in traceback
