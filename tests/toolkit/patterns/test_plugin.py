"""PluginRegistry: entry points (real dist-info on sys.path), failures, persisted state."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test.utils import override_settings

from tests.toolkit.patterns.docs_examples import run_page
from toolkit.models import PluginState
from toolkit.patterns import plugin as plugin_module
from toolkit.patterns.exceptions import DuplicatePlugin, PluginNotFound, ValidationError
from toolkit.patterns.plugin import Plugin, PluginRegistry, get_plugin_registry
from toolkit.patterns.plugin_state import DjangoPluginState, request_cache

GROUP = "toolkit_more_tests.plugins"

events: list[str] = []


class Loyalty(Plugin):
    """Awards points."""

    version = "2.0.0"

    def activate(self) -> None:
        events.append("loyalty.activate")

    def deactivate(self) -> None:
        events.append("loyalty.deactivate")


class Screening(Plugin):
    def activate(self) -> None:
        events.append("screening.activate")

    def deactivate(self) -> None:
        events.append("screening.deactivate")


@pytest.fixture(autouse=True)
def clear_events():
    events.clear()


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch):
    """A real installed distribution on sys.path with three entry points, one broken."""
    (tmp_path / "moreplugins_pkg.py").write_text(
        textwrap.dedent(
            """
            from toolkit.patterns.plugin import Plugin

            class Audit(Plugin):
                '''Audits everything.'''

                def activate(self):
                    pass

            class Pinned(Plugin):
                version = "9.9"
            """
        )
    )
    (tmp_path / "moreplugins_broken.py").write_text("import does_not_exist_anywhere\n")
    info = tmp_path / "moreplugins-3.1.4.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: moreplugins\nVersion: 3.1.4\n")
    (info / "top_level.txt").write_text("moreplugins_pkg\nmoreplugins_broken\n")
    (info / "entry_points.txt").write_text(
        f"[{GROUP}]\n"
        "audit = moreplugins_pkg:Audit\n"
        "pinned = moreplugins_pkg:Pinned\n"
        "broken = moreplugins_broken:Thing\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in ("moreplugins_pkg", "moreplugins_broken"):
        sys.modules.pop(module, None)


def test_register_get_unregister() -> None:
    registry = PluginRegistry()
    registry.register("loyalty", Loyalty)
    assert registry.get("loyalty") is Loyalty
    registry.unregister("loyalty")
    with pytest.raises(PluginNotFound) as excinfo:
        registry.get("loyalty")
    assert str(excinfo.value) == "No plugin named 'loyalty'; available: none"


def test_registry_built_in_user_code_needs_no_database() -> None:
    # No django_db mark: pytest-django fails any query here. dmr-toolkit 0.1.0's registry is
    # a plain in-memory object; so is ours unless given the Django state store.
    registry = PluginRegistry()
    registry.register("my_plugin", Loyalty)
    assert registry.get("my_plugin") is Loyalty
    (meta,) = registry.list_plugins()
    assert (meta.name, meta.version, meta.status) == ("my_plugin", "2.0.0", "active")
    assert meta.plugin_class is meta.plugin is Loyalty
    assert registry.is_enabled("my_plugin") is True
    assert registry.disable("my_plugin").status == "disabled"
    assert registry.is_enabled("my_plugin") is False
    assert [m.status for m in registry.list_plugins()] == ["disabled"]
    assert registry.enable("my_plugin").status == "active"
    assert events == ["loyalty.activate", "loyalty.deactivate", "loyalty.activate"]
    registry.unregister("my_plugin")
    assert registry.list_plugins() == []


def test_unknown_name_is_also_a_key_error_as_published() -> None:
    registry = PluginRegistry()
    with pytest.raises(KeyError) as excinfo:
        registry.get("missing")
    assert str(excinfo.value) == "No plugin named 'missing'; available: none"
    with pytest.raises(KeyError):
        registry.unregister("missing")


def test_duplicate_name_raises() -> None:
    registry = PluginRegistry()
    registry.register("loyalty", Loyalty)
    with pytest.raises(DuplicatePlugin) as excinfo:
        registry.register("loyalty", Screening)
    assert repr(excinfo.value) == "DuplicatePlugin(name='loyalty')"
    assert registry.get("loyalty") is Loyalty


def test_unknown_name_lists_available() -> None:
    registry = PluginRegistry()
    registry.register("loyalty", Loyalty)
    registry.register("screening", Screening)
    with pytest.raises(PluginNotFound) as excinfo:
        registry.get("fraud")
    assert str(excinfo.value) == "No plugin named 'fraud'; available: 'loyalty', 'screening'"
    assert excinfo.value.available == ("loyalty", "screening")


@pytest.mark.parametrize(
    ("name", "plugin", "message"),
    [
        ("", Loyalty, "A plugin name must be a non-empty string, not ''"),
        ("x", object(), "Plugin 'x' must be a class with activate() and deactivate(), not <object"),
        (
            "x",
            int,
            "Plugin 'x' must be a class with activate() and deactivate(), not <class 'int'>",
        ),
    ],
    ids=["empty-name", "instance", "no-methods"],
)
def test_register_rejects_bad_input(name, plugin, message) -> None:
    registry = PluginRegistry()
    with pytest.raises(ValidationError) as excinfo:
        registry.register(name, plugin)
    assert str(excinfo.value).startswith(message)
    assert registry.names() == []


@pytest.mark.django_db
def test_load_entry_points_lists_failed_plugin_with_error_and_loads_others(plugin_dist) -> None:
    registry = PluginRegistry()
    assert registry.load_entry_points(GROUP) == ["audit", "pinned"]
    metas = {meta.name: meta for meta in registry.list_plugins()}
    assert sorted(metas) == ["audit", "broken", "pinned"]
    broken = metas["broken"]
    assert broken.status == "failed"
    assert broken.error == "ModuleNotFoundError: No module named 'does_not_exist_anywhere'"
    assert broken.version == "3.1.4"
    assert broken.entry_point == "moreplugins_broken:Thing"
    assert metas["audit"].status == "active"
    assert metas["audit"].version == "3.1.4"  # the distribution's version
    assert metas["audit"].description == "Audits everything."
    assert metas["pinned"].version == "9.9"  # the class attribute wins
    with pytest.raises(PluginNotFound, match="available: 'audit', 'pinned'"):
        registry.get("broken")


@pytest.mark.django_db
def test_manual_registration_takes_the_class_then_the_distribution_version(plugin_dist) -> None:
    plugin_module._packages_distributions.cache_clear()  # the fixture installed a distribution
    from moreplugins_pkg import Audit, Pinned

    registry = PluginRegistry()
    registry.register("audit", Audit)
    registry.register("pinned", Pinned)
    registry.register("screening", Screening)  # no version, in no distribution
    registry.register("loyalty", Loyalty)  # its class attribute
    registry.register("forced", Audit, version="0.0.1")
    try:
        versions = {meta.name: meta.version for meta in registry.list_plugins()}
    finally:
        registry.shutdown()
        plugin_module._packages_distributions.cache_clear()
    assert versions == {
        "audit": "3.1.4",  # the distribution shipping moreplugins_pkg
        "forced": "0.0.1",
        "loyalty": "2.0.0",
        "pinned": "9.9",
        "screening": None,
    }


@pytest.mark.django_db
def test_load_entry_points_is_idempotent(plugin_dist) -> None:
    registry = PluginRegistry()
    registry.load_entry_points(GROUP)
    assert registry.load_entry_points(GROUP) == []
    assert registry.names() == ["audit", "broken", "pinned"]


@pytest.mark.django_db
def test_load_entry_points_reads_plugin_group_setting(plugin_dist) -> None:
    with override_settings(TOOLKIT={"patterns": {"plugin_group": GROUP}}):
        registry = PluginRegistry()
        assert registry.load_entry_points() == ["audit", "pinned"]


def test_load_accepts_entry_point_objects() -> None:
    registry = PluginRegistry()
    entry_points = [
        EntryPoint("loyalty", f"{__name__}:Loyalty", GROUP),
        EntryPoint("ghost", f"{__name__}:Ghost", GROUP),
    ]
    assert registry.load(entry_points) == ["loyalty"]
    assert registry.get("loyalty") is Loyalty
    assert registry._entries["ghost"].error == (
        f"AttributeError: module '{__name__}' has no attribute 'Ghost'"
    )


def test_entry_point_that_is_not_a_plugin_class_is_failed_and_others_load() -> None:
    registry = PluginRegistry()
    entry_points = [
        EntryPoint("group", f"{__name__}:GROUP", GROUP),  # a string, not a plugin class
        EntryPoint("loyalty", f"{__name__}:Loyalty", GROUP),
    ]
    assert registry.load(entry_points) == ["loyalty"]
    assert registry.names() == ["group", "loyalty"]
    assert registry._entries["group"].error == (
        "ValidationError: Plugin 'group' must be a class with activate() and deactivate(), "
        f"not {GROUP!r}"
    )
    assert registry._entries["group"].entry_point == f"{__name__}:GROUP"


def test_entry_point_clashing_with_a_registered_name_raises_after_loading_the_rest() -> None:
    registry = PluginRegistry()
    registry.register("loyalty", Screening)
    entry_points = [
        EntryPoint("loyalty", f"{__name__}:Loyalty", GROUP),
        EntryPoint("screening", f"{__name__}:Screening", GROUP),
    ]
    with pytest.raises(DuplicatePlugin) as excinfo:
        registry.load(entry_points)
    assert repr(excinfo.value) == "DuplicatePlugin(name='loyalty')"
    assert registry.get("loyalty") is Screening  # the registered class stays
    assert registry.get("screening") is Screening  # the later entry point still loaded


@pytest.mark.django_db
def test_disable_persists_and_deactivates_enable_reactivates() -> None:
    registry = PluginRegistry(state=DjangoPluginState())
    registry.register("loyalty", Loyalty)
    assert [m.status for m in registry.list_plugins()] == ["active"]
    assert events == ["loyalty.activate"]
    user = get_user_model().objects.create_user("ops", password="x")
    meta = registry.disable("loyalty", user=user)
    assert meta.status == "disabled"
    state = PluginState.objects.get(name="loyalty")
    assert (state.enabled, state.updated_by) == (False, user)
    assert events == ["loyalty.activate", "loyalty.deactivate"]
    assert registry.is_enabled("loyalty") is False
    registry.enable("loyalty")
    assert PluginState.objects.get(name="loyalty").enabled is True
    assert events[-1] == "loyalty.activate"


@pytest.mark.django_db
def test_other_registry_follows_persisted_state() -> None:
    # Two registries stand for two processes sharing the database.
    here = PluginRegistry(state=DjangoPluginState())
    there = PluginRegistry(state=DjangoPluginState())
    for registry in (here, there):
        registry.register("loyalty", Loyalty)
        registry.list_plugins()
    events.clear()
    here.disable("loyalty")
    assert [m.status for m in there.list_plugins()] == ["disabled"]
    assert events == ["loyalty.deactivate", "loyalty.deactivate"]
    here.enable("loyalty")
    assert there.is_enabled("loyalty") is True
    assert events[-2:] == ["loyalty.activate", "loyalty.activate"]


@pytest.mark.django_db
def test_is_enabled_reads_only_its_own_row() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    registry = PluginRegistry(state=DjangoPluginState())
    registry.register("loyalty", Loyalty)
    registry.register("screening", Screening)
    PluginState.objects.create(name="screening", enabled=False)
    with CaptureQueriesContext(connection) as queries:
        assert registry.is_enabled("loyalty") is True
    (query,) = queries.captured_queries
    assert "\"name\" = 'loyalty'" in query["sql"]  # filtered by name
    assert "screening" not in query["sql"]
    assert events == ["loyalty.activate"]  # only the plugin asked about is synced


@pytest.mark.django_db
def test_django_state_is_read_once_per_request() -> None:
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection
    from django.test.utils import CaptureQueriesContext

    registry = PluginRegistry(state=DjangoPluginState())
    registry.register("loyalty", Loyalty)
    registry.register("screening", Screening)
    PluginState.objects.create(name="screening", enabled=False)
    # As Django's test client does: the request signals without closing the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_started.send(sender=None)
    try:
        with CaptureQueriesContext(connection) as queries:
            for _ in range(3):
                assert registry.is_enabled("loyalty") is True
                assert registry.is_enabled("screening") is False
            assert [m.status for m in registry.list_plugins()] == ["active", "disabled"]
        (query,) = queries.captured_queries  # the whole (small) table, once
        assert "toolkit_pluginstate" in query["sql"]
        registry.enable("screening")  # a toggle during the request updates its copy
        with CaptureQueriesContext(connection) as queries:
            assert registry.is_enabled("screening") is True
        assert queries.captured_queries == []
    finally:
        request_finished.send(sender=None)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert request_cache.get() is None
    PluginState.objects.filter(name="screening").update(enabled=False)  # another process
    assert registry.is_enabled("screening") is False  # outside a request: read again


@pytest.mark.django_db
def test_unknown_plugin_enable_writes_nothing() -> None:
    registry = PluginRegistry(state=DjangoPluginState())
    registry.register("loyalty", Loyalty)
    with pytest.raises(PluginNotFound) as excinfo:
        registry.disable("fraud")
    assert str(excinfo.value) == "No plugin named 'fraud'; available: 'loyalty'"
    assert not PluginState.objects.exists()


@pytest.mark.django_db
def test_activation_error_marks_plugin_failed() -> None:
    class Exploding(Plugin):
        def activate(self) -> None:
            raise RuntimeError("no config")

    registry = PluginRegistry()
    registry.register("exploding", Exploding)
    (meta,) = registry.list_plugins()
    assert (meta.status, meta.error) == ("failed", "activate() failed: RuntimeError: no config")


@pytest.mark.django_db
def test_get_plugin_registry_loads_the_configured_group(plugin_dist) -> None:
    plugin_module.reset_plugin_registry()
    try:
        with override_settings(TOOLKIT={"patterns": {"plugin_group": GROUP}}):
            registry = get_plugin_registry()
            assert registry is get_plugin_registry()
            assert registry.names() == ["audit", "broken", "pinned"]
        assert get_plugin_registry() is not registry  # the setting changed: reloaded
    finally:
        plugin_module.reset_plugin_registry()


@pytest.mark.django_db
def test_demo_entry_points_load() -> None:
    registry = PluginRegistry()
    assert registry.load_entry_points("toolkit_demo.plugins") == [
        "fraud_screening",
        "loyalty_points",
    ]
    assert {m.name: m.version for m in registry.list_plugins()} == {
        "fraud_screening": "0.9.1",
        "loyalty_points": "1.2.0",
    }
    registry.shutdown()


@pytest.mark.django_db(transaction=True)
def test_disable_in_another_process_is_honoured_here(tmp_path) -> None:
    registry = PluginRegistry(state=DjangoPluginState())
    registry.register("loyalty", Loyalty)
    registry.list_plugins()
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite is private to this process: the PostgreSQL pass runs it")
    settings_dict = connection.settings_dict
    script = textwrap.dedent(
        f"""
        import os
        os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
        import django
        from django.conf import settings
        django.setup()
        from django.db import connections
        connections["default"].settings_dict["NAME"] = {settings_dict["NAME"]!r}
        from toolkit.patterns.plugin import PluginRegistry
        from toolkit.patterns.plugin import Plugin
        from toolkit.patterns.plugin_state import DjangoPluginState
        class Loyalty(Plugin):
            pass
        registry = PluginRegistry(state=DjangoPluginState())
        registry.register("loyalty", Loyalty)
        registry.disable("loyalty")
        print("disabled")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    events.clear()
    assert [m.status for m in registry.list_plugins()] == ["disabled"]
    assert events == ["loyalty.deactivate"]


@pytest.mark.django_db
def test_docs_page_examples_run() -> None:
    # An empty group: the demo's plugins would stay active in this process otherwise.
    with override_settings(TOOLKIT={"patterns": {"plugin_group": "toolkit_more_docs.none"}}):
        namespace = run_page("plugin.md")
    namespace["registry"].shutdown()
