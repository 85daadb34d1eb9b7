"""Issue 14, defect 3: a stale CSRF token gets a panel message and a fresh token."""

from __future__ import annotations

import json

from django.conf import settings
from django.test import Client, TestCase
from django.urls import reverse

from patterns_admin.models import PanelActionLog
from patterns_admin.views.errors import CSRF_MESSAGE
from tests.patterns_admin.conftest import make_staff
from toolkit.models import PluginState


class CsrfFailureTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.operator = make_staff("operator", "toggle_plugin")

    def setUp(self) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(self.operator)
        self.client.get(reverse("patterns_admin:plugin-list"))  # sets the CSRF cookie
        self.url = reverse("patterns_admin:plugin-toggle", args=["loyalty_points"])

    def test_htmx_post_with_a_stale_token_gets_a_message_and_the_current_token(self) -> None:
        response = self.client.post(
            self.url,
            {"action": "disable"},
            headers={"HX-Request": "true", "X-CSRFToken": "x" * 32},
        )
        assert response.status_code == 403
        assert response["HX-Reswap"] == "none"
        token = json.loads(response["HX-Trigger"])["panelCsrfRefresh"]["token"]
        html = response.content.decode()
        assert 'id="panel-messages"' in html and 'hx-swap-oob="true"' in html
        assert "security token had expired" in html
        assert "CSRF verification failed" not in html
        assert not PluginState.objects.exists() and not PanelActionLog.objects.exists()
        # The token it hands out works.
        retry = self.client.post(
            self.url, {"action": "disable"}, headers={"HX-Request": "true", "X-CSRFToken": token}
        )
        assert retry.status_code != 403

    def test_plain_post_with_a_stale_token_gets_the_panel_page(self) -> None:
        response = self.client.post(
            self.url,
            {"action": "disable", "csrfmiddlewaretoken": "x" * 32},
            headers={"Referer": "http://testserver/panel/plugins/"},
        )
        assert response.status_code == 403
        html = response.content.decode()
        assert CSRF_MESSAGE.split(",")[0] in html
        assert 'href="http://testserver/panel/plugins/"' in html
        assert "Patterns control panel" in html

    def test_a_foreign_referer_is_not_offered_as_the_way_back(self) -> None:
        response = self.client.post(
            self.url, {"csrfmiddlewaretoken": "x" * 32}, headers={"Referer": "https://evil.test/"}
        )
        assert "evil.test" not in response.content.decode()

    def test_outside_the_panel_django_answers_as_usual(self) -> None:
        assert settings.CSRF_FAILURE_VIEW == "patterns_admin.views.errors.csrf_failure"
        response = self.client.post(reverse("admin:logout"), {"csrfmiddlewaretoken": "x" * 32})
        assert response.status_code == 403
        assert "CSRF verification failed" in response.content.decode()
