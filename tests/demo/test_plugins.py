"""The demo's plugins follow the persisted enable/disable state, whoever wrote it.

The shop's guard (``fraud_verdict``) and bus handler (``award_points``) ask the process's plugin
registry at each call, so no ``list_plugins``/``sync`` has to run in this process first.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import override_settings

from demo.shop import screening
from demo.shop.models import LoyaltyEntry, Order
from toolkit.models import PluginState
from toolkit.patterns.plugin import PluginRegistry, get_plugin_registry
from toolkit.patterns.plugin_state import DjangoPluginState

DEMO_GROUP = {"patterns": {"plugin_group": "toolkit_demo.plugins"}}


def risky_order(**fields: object) -> Order:
    values: dict[str, object] = {
        "customer": "Mallory",
        "email": "m@mail.test",
        "total": Decimal("6000.00"),
        "address": "1 Road",
    }
    return Order.objects.create(**{**values, **fields})


@pytest.fixture
def demo_plugins():
    """This process's default registry loads the demo's entry points (deactivated after)."""
    with override_settings(TOOLKIT=DEMO_GROUP):
        yield get_plugin_registry()
    assert not screening._active  # the settings reload shut the registry down


@pytest.mark.django_db
def test_plugins_are_active_without_any_prior_sync(demo_plugins) -> None:
    order = risky_order()
    assert not screening._active  # nothing has activated them yet
    assert screening.fraud_verdict(order) == (
        "total 6000.00 above 5000 from untrusted domain 'mail.test'"
    )
    screening.award_points({"object_id": order.pk})
    assert LoyaltyEntry.objects.get(order=order).points == 6000


@pytest.mark.django_db
def test_disable_by_another_registry_stops_the_behaviour_at_the_next_call(demo_plugins) -> None:
    order = risky_order()
    assert screening.fraud_verdict(order) is not None
    # Another registry, as another process has: only the database is shared.
    elsewhere = PluginRegistry(state=DjangoPluginState())
    elsewhere.load_entry_points("toolkit_demo.plugins")
    elsewhere.disable("fraud_screening")
    elsewhere.disable("loyalty_points")
    elsewhere.shutdown()

    assert screening.fraud_verdict(order) is None
    screening.award_points({"object_id": order.pk})
    assert not LoyaltyEntry.objects.exists()
    assert not screening._active  # deactivate() ran here too

    PluginState.objects.filter(name="fraud_screening").update(enabled=True)
    assert screening.fraud_verdict(order) is not None


@pytest.mark.django_db
def test_is_enabled_reads_one_row(demo_plugins, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        assert screening.is_enabled("fraud_screening") is True


def test_unregistered_plugin_falls_back_to_the_process_flag() -> None:
    # A plugin group without the demo's entry points: only set_active counts (no query).
    with override_settings(TOOLKIT={"patterns": {"plugin_group": "toolkit_demo.none"}}):
        assert get_plugin_registry().names() == []
        screening.set_active("fraud_screening", True)
        try:
            assert screening.is_enabled("fraud_screening") is True
        finally:
            screening.set_active("fraud_screening", False)
        assert screening.is_enabled("fraud_screening") is False


@pytest.mark.django_db(transaction=True)
def test_disable_in_another_process_is_honoured_by_the_guard(demo_plugins) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite is private to this process: the PostgreSQL pass runs it")
    order = risky_order()
    assert screening.fraud_verdict(order) is not None
    script = textwrap.dedent(
        f"""
        import os
        os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
        import django
        django.setup()
        from django.db import connections
        connections["default"].settings_dict["NAME"] = {connection.settings_dict["NAME"]!r}
        from toolkit.patterns.plugin import PluginRegistry
        from toolkit.patterns.plugin_state import DjangoPluginState
        registry = PluginRegistry(state=DjangoPluginState())
        registry.load_entry_points("toolkit_demo.plugins")
        registry.disable("fraud_screening")
        registry.shutdown()
        print("disabled")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "disabled"
    assert screening.fraud_verdict(order) is None
    assert "fraud_screening" not in screening._active
