"""The projections page and its rebuild action."""

from __future__ import annotations

from django.test import Client, TestCase
from django.urls import reverse

from demo.shop.carts import ShoppingCart, cart_repository
from demo.shop.models import DailyRevenue
from patterns_admin.models import PanelActionLog
from tests.patterns_admin.conftest import make_staff

LIST_URL = reverse("patterns_admin:projection-list")
REBUILD_URL = reverse("patterns_admin:projection-rebuild", args=["revenue_per_day"])


class ProjectionPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.viewer = make_staff("viewer")
        cls.operator = make_staff("operator", "replay_events")
        repo = cart_repository()
        for i in range(3):
            cart = ShoppingCart.open(f"cart-{i}", "Ada")
            cart.add_item("KB-101", 2, "10.00")
            cart.check_out()
            repo.save(cart)

    def test_list_shows_position_lag_and_a_rebuild_link(self) -> None:
        self.client.force_login(self.operator)
        response = self.client.get(LIST_URL)
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-projection="revenue_per_day"' in html
        assert f'href="{REBUILD_URL}" hx-get="{REBUILD_URL}"' in html

    def test_confirmation_states_how_many_events_will_be_replayed(self) -> None:
        self.client.force_login(self.operator)
        page = self.client.get(REBUILD_URL).content.decode()
        assert "<html" in page
        assert "replays <strong>3</strong> events from the start" in page
        assert "Rebuild and replay 3 events" in page
        assert "hx-post" not in page  # the standalone page posts and redirects
        fragment = self.client.get(REBUILD_URL, headers={"HX-Request": "true"}).content.decode()
        assert "<html" not in fragment
        assert fragment.lstrip().startswith("<form")
        assert f'hx-post="{REBUILD_URL}" hx-target="#results"' in fragment
        assert not DailyRevenue.objects.exists()  # confirming is not rebuilding

    def test_confirmation_needs_the_replay_permission(self) -> None:
        self.client.force_login(self.viewer)
        assert self.client.get(REBUILD_URL).status_code == 403

    def test_list_htmx_gets_only_results(self) -> None:
        self.client.force_login(self.viewer)
        html = self.client.get(LIST_URL, headers={"HX-Request": "true"}).content.decode()
        assert html.lstrip().startswith('<section id="results"')
        assert "needs permission" in html

    def test_rebuild_replays_and_is_recorded(self) -> None:
        self.client.force_login(self.operator)
        response = self.client.post(REBUILD_URL, headers={"HX-Request": "true"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "Rebuilt &#x27;revenue_per_day&#x27;: replayed 3 events." in html
        row = DailyRevenue.objects.get()
        assert (row.carts, str(row.revenue)) == (3, "60.00")
        log = PanelActionLog.objects.get()
        assert (log.action, log.target, log.user, log.detail) == (
            "rebuild_projection",
            "projection:revenue_per_day",
            self.operator,
            {"events": 3},
        )

    def test_rebuild_without_js_redirects(self) -> None:
        self.client.force_login(self.operator)
        response = self.client.post(REBUILD_URL)
        assert response.status_code == 302
        assert response["Location"] == LIST_URL

    def test_boosted_rebuild_redirects_like_a_plain_post(self) -> None:
        self.client.force_login(self.operator)
        headers = {"HX-Request": "true", "HX-Boosted": "true"}
        response = self.client.post(REBUILD_URL, headers=headers)
        assert response.status_code == 302
        assert response["Location"] == LIST_URL

    def test_rebuild_needs_the_replay_permission(self) -> None:
        self.client.force_login(self.viewer)
        response = self.client.post(REBUILD_URL)
        assert response.status_code == 403
        assert not DailyRevenue.objects.exists()
        assert not PanelActionLog.objects.exclude(action="refused").exists()

    def test_rebuild_needs_csrf_and_post(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.operator)
        assert client.post(REBUILD_URL).status_code == 403
        assert not DailyRevenue.objects.exists()
        self.client.force_login(self.operator)
        assert self.client.put(REBUILD_URL).status_code == 405

    def test_unknown_projection_is_404(self) -> None:
        self.client.force_login(self.operator)
        url = reverse("patterns_admin:projection-rebuild", args=["nope"])
        assert self.client.post(url).status_code == 404


class RebuildFailureTests(TestCase):
    def test_failed_rebuild_is_reported_and_logged(self) -> None:
        from unittest import mock

        operator = make_staff("operator", "replay_events")
        self.client.force_login(operator)
        with mock.patch(
            "toolkit.eventsourcing.projections.rebuild_projection",
            side_effect=RuntimeError("disk full"),
        ):
            response = self.client.post(REBUILD_URL, headers={"HX-Request": "true"})
        assert (
            "Rebuilding &#x27;revenue_per_day&#x27; failed: disk full" in response.content.decode()
        )
        log = PanelActionLog.objects.get()
        assert (log.success, log.detail) == (False, {"events": 0, "error": "disk full"})
