"""The plugins page and its toggle: permission, CSRF, persistence, activate/deactivate, audit."""

from __future__ import annotations

from typing import ClassVar
from unittest import mock

from django.contrib.auth.models import User
from django.test import Client, TestCase
from django.urls import reverse

from patterns_admin.models import PanelActionLog
from tests.patterns_admin.conftest import make_staff
from toolkit.models import PluginState
from toolkit.patterns.plugin import Plugin, PluginRegistry
from toolkit.patterns.plugin_state import DjangoPluginState

URL = reverse("patterns_admin:plugin-list")


class Recorded(Plugin):
    """Base of the test plugins: records activate/deactivate per plugin class."""

    calls: ClassVar[list[tuple[str, str]]] = []

    def activate(self) -> None:
        Recorded.calls.append(("activate", type(self).__name__))

    def deactivate(self) -> None:
        Recorded.calls.append(("deactivate", type(self).__name__))


class LoyaltyPoints(Recorded):
    version = "1.2.0"


class FraudScreening(Recorded):
    version = "0.9.1"

    def activate(self) -> None:
        raise ImportError("<script>boom</script>")


class Bold(Recorded):
    version = "1"


def real_registry() -> PluginRegistry:
    """The toolkit's registry with the Django state store, as ``get_plugin_registry()``."""
    registry = PluginRegistry(state=DjangoPluginState())
    registry.register("loyalty_points", LoyaltyPoints)
    registry.register("fraud_screening", FraudScreening)
    registry.register("<b>x</b>", Bold)
    return registry


def toggle_url(name: str) -> str:
    return reverse("patterns_admin:plugin-toggle", args=[name])


class PluginTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.viewer = make_staff("viewer")
        cls.operator = make_staff("operator", "toggle_plugin")

    def setUp(self) -> None:
        Recorded.calls.clear()
        self.registry = real_registry()
        self.addCleanup(self.registry.shutdown)
        patcher = mock.patch(
            "patterns_admin.views.plugins.plugin_registry", return_value=self.registry
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def login(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_list_shows_name_version_status_and_escaped_error(self) -> None:
        response = self.login(self.viewer).get(URL)
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
        html = response.content.decode()
        assert "loyalty_points" in html and "1.2.0" in html
        assert '<span class="badge badge-failed">failed</span>' in html
        assert "activate() failed: ImportError: &lt;script&gt;boom&lt;/script&gt;" in html
        assert "<script>boom" not in html and "<b>x</b>" not in html
        assert "needs permission" in html
        fragment = self.login(self.viewer).get(URL, headers={"HX-Request": "true"})
        assert fragment.content.decode().strip().startswith('<section id="results"')

    def test_empty_registry_names_the_entry_point_group(self) -> None:
        for name in self.registry.names():
            self.registry.unregister(name)
        with self.settings(TOOLKIT={"patterns": {"plugin_group": "acme.plugins"}}):
            html = self.login(self.viewer).get(URL).content.decode()
        assert "No plugins installed." in html
        assert "entry-point group <code>acme.plugins</code>" in html

    def test_toggle_needs_the_permission(self) -> None:
        response = self.login(self.viewer).post(toggle_url("loyalty_points"), {"action": "disable"})
        assert response.status_code == 403
        assert "patterns_admin.toggle_plugin" in response.content.decode()
        assert not PluginState.objects.exists()
        assert Recorded.calls == []
        assert not PanelActionLog.objects.exclude(action="refused").exists()

    def test_anonymous_is_redirected(self) -> None:
        response = Client().post(toggle_url("loyalty_points"), {"action": "disable"})
        assert response.status_code == 302
        assert Recorded.calls == []

    def test_csrf_is_enforced(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.operator)
        response = client.post(toggle_url("loyalty_points"), {"action": "disable"})
        assert response.status_code == 403
        assert Recorded.calls == []

    def test_get_is_not_allowed(self) -> None:
        assert self.login(self.operator).get(toggle_url("loyalty_points")).status_code == 405

    def test_htmx_toggle_lists_the_plugins_once(self) -> None:
        with mock.patch.object(
            self.registry, "list_plugins", wraps=self.registry.list_plugins
        ) as listed:
            response = self.login(self.operator).post(
                toggle_url("loyalty_points"), {"action": "disable"}, headers={"HX-Request": "true"}
            )
        assert '<span class="badge badge-disabled">disabled</span>' in response.content.decode()
        assert listed.call_count == 1

    def test_disable_then_enable_persists_calls_and_audits(self) -> None:
        client = self.login(self.operator)
        client.get(URL)  # the listing syncs this process: the plugins activate
        response = client.post(toggle_url("loyalty_points"), {"action": "disable"})
        assert response.status_code == 302
        assert response["Location"] == URL
        state = PluginState.objects.get(name="loyalty_points")
        assert (state.enabled, state.updated_by) == (False, self.operator)
        # Activated by the listing's sync (fraud_screening's activate() raised), then
        # deactivated by the toggle.
        assert Recorded.calls == [
            ("activate", "LoyaltyPoints"),
            ("activate", "Bold"),
            ("deactivate", "LoyaltyPoints"),
        ]
        html = client.get(URL).content.decode()
        assert "Plugin &#x27;loyalty_points&#x27; is now disabled." in html
        assert '<span class="badge badge-disabled">disabled</span>' in html

        response = client.post(
            toggle_url("loyalty_points"), {"action": "enable"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert response["HX-Trigger"] == '{"auditChanged": {}}'
        assert '<span class="badge badge-active">active</span>' in response.content.decode()
        assert PluginState.objects.get(name="loyalty_points").enabled is True
        actions = list(
            PanelActionLog.objects.order_by("id").values_list("user", "action", "target", "detail")
        )
        assert actions == [
            (
                self.operator.pk,
                "toggle_plugin",
                "plugin:loyalty_points",
                {"action": "disable", "status": "disabled"},
            ),
            (
                self.operator.pk,
                "toggle_plugin",
                "plugin:loyalty_points",
                {"action": "enable", "status": "active"},
            ),
        ]

    def test_unknown_plugin_is_a_message(self) -> None:
        response = self.login(self.operator).post(
            toggle_url("nope"), {"action": "enable"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 404
        assert "Could not enable &#x27;nope&#x27;: No plugin named &#x27;nope&#x27;" in (
            response.content.decode()
        )
        log = PanelActionLog.objects.get()
        assert (log.success, log.detail["error_type"]) == (False, "PluginNotFound")

    def test_bad_action_is_400_and_changes_nothing(self) -> None:
        response = self.login(self.operator).post(
            toggle_url("loyalty_points"), {"action": "explode"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 400
        assert (
            "Unknown action &#x27;explode&#x27; for plugin &#x27;loyalty_points&#x27;; "
            "choices: &#x27;disable&#x27;, &#x27;enable&#x27;." in response.content.decode()
        )
        assert not any(call[0] == "deactivate" for call in Recorded.calls)
        assert not PluginState.objects.exists()


class BrokenRegistryTests(TestCase):
    def test_a_registry_that_cannot_load_is_an_error_state_not_a_500(self) -> None:
        client = Client()
        client.force_login(make_staff("operator", "toggle_plugin"))
        with mock.patch(
            "patterns_admin.views.plugins.plugin_registry",
            side_effect=ImportError("No module named 'acme_plugins'"),
        ):
            page = client.get(URL)
            toggle = client.post(toggle_url("x"), {"action": "enable"}, follow=True)
        assert page.status_code == 200
        html = page.content.decode()
        assert "The plugin registry could not be loaded:</strong> ImportError: No module" in html
        assert "No plugins to show." in html
        assert toggle.status_code == 200
        assert "Could not enable &#x27;x&#x27;: ImportError: No module named" in (
            toggle.content.decode()
        )
        assert PanelActionLog.objects.get().success is False
