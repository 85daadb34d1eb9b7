"""Issue 14, defect 7: the smaller things an operator trips over (page=999, the CQRS card,
dates with their time zone, plurals, the favicon, no-JS confirmations, the live tail's replay
maximum and Pause in the URL)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.test import TestCase
from django.urls import reverse

from demo.shop.carts import ShoppingCart, cart_repository
from demo.shop.models import LoyaltyEntry
from patterns_admin.models import PanelActionLog
from tests.patterns_admin.conftest import make_staff, make_transitions
from toolkit.models import PluginState

AUDIT = reverse("patterns_admin:audit-list")


class DetailsTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("operator", "toggle_plugin", "manage_cqrs")
        make_transitions(30)

    def setUp(self) -> None:
        self.client.force_login(self.staff)

    def test_a_page_beyond_the_last_is_an_error_not_page_one(self) -> None:
        response = self.client.get(AUDIT, {"sort": "transition", "page": "999"})
        assert response.status_code == 400
        assert "page: 999 is beyond the last page (1)." in response.content.decode()
        unsorted = self.client.get(AUDIT, {"page": "2"})
        assert unsorted.status_code == 400
        assert "page: 2 is not used without a sort" in unsorted.content.decode()
        assert self.client.get(AUDIT, {"sort": "transition", "page": "1"}).status_code == 200

    def test_the_cqrs_card_shows_a_figure(self) -> None:
        html = self.client.get(reverse("patterns_admin:index")).content.decode()
        card = html.split('<div class="label">CQRS</div>')[1].split("</div>")[0]
        assert '<div class="value">' in card and "→" not in card
        assert card.split('<div class="value">')[1].strip().isdigit()

    def test_dates_carry_their_time_zone(self) -> None:
        html = self.client.get(AUDIT).content.decode()
        assert f" {settings.TIME_ZONE}</td>" in html

    def test_loyalty_entries_are_spelled_right(self) -> None:
        assert LoyaltyEntry._meta.verbose_name_plural == "loyalty entries"

    def test_every_page_links_the_favicon(self) -> None:
        html = self.client.get(reverse("patterns_admin:index")).content.decode()
        assert 'rel="icon" href="/static/patterns_admin/favicon.svg"' in html
        root = Path(__file__).resolve().parents[2]
        assert (root / "static/patterns_admin/favicon.svg").read_text().startswith("<svg")

    def test_plugin_toggle_without_javascript_asks_first(self) -> None:
        url = reverse("patterns_admin:plugin-toggle", args=["loyalty_points"])
        response = self.client.post(url, {"action": "disable", "confirmed": "0"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "Disable the plugin loyalty_points? Nothing has been changed yet." in html
        assert '<input type="hidden" name="action" value="disable">' in html
        assert '<input type="hidden" name="confirmed" value="1">' in html
        assert not PluginState.objects.exists() and not PanelActionLog.objects.exists()
        self.client.post(url, {"action": "disable", "confirmed": "1"})
        assert PluginState.objects.get(name="loyalty_points").enabled is False
        self.client.post(url, {"action": "enable", "confirmed": "1"})

    def test_the_plugin_form_asks_through_htmx_and_marks_itself_for_no_js(self) -> None:
        html = self.client.get(reverse("patterns_admin:plugin-list")).content.decode()
        assert '<input type="hidden" name="confirmed" value="0">' in html
        assert """hx-vals='{"confirmed": "1"}'""" in html

    def test_resync_all_without_javascript_asks_first(self) -> None:
        response = self.client.post(
            reverse("patterns_admin:cqrs-resync"),
            {"cqrs_id": "product", "scope": "all", "confirmed": "0"},
        )
        html = response.content.decode()
        assert "Resend every product instance to the replicas? Nothing has been changed" in html
        assert not PanelActionLog.objects.exists()


class LiveTailDetailsTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        repo = cart_repository()
        cart = ShoppingCart.open("cart-1", "Grace")
        cart.add_item("KB-101", 1, "10.00")
        repo.save(cart)

    def test_the_tail_updates_the_replay_maximum_out_of_band(self) -> None:
        self.client.force_login(self.staff)
        url = reverse("patterns_admin:stream-detail", args=["cart-1"])
        html = self.client.get(
            url, {"tail_after": "1"}, headers={"HX-Request": "true", "HX-Target": "tail-control"}
        )
        text = html.content.decode()
        assert 'id="replay-last" data-last="2" hx-swap-oob="true"' in text

    def test_pause_and_resume_go_into_the_url(self) -> None:
        self.client.force_login(self.staff)
        url = reverse("patterns_admin:stream-detail", args=["cart-1"])
        html = self.client.get(url).content.decode()
        pause = html.split(">Pause</a>")[0].rsplit("<a ", 1)[1]
        assert 'hx-push-url="true"' in pause and "tail=paused" in pause
        paused = self.client.get(url, {"tail_after": "2", "tail": "paused"}).content.decode()
        assert 'data-tail="paused"' in paused
        resume = paused.split(">Resume</a>")[0].rsplit("<a ", 1)[1]
        assert 'hx-push-url="true"' in resume


class ProjectionHealthOnHomeTests(TestCase):
    def test_home_shows_the_health_level_its_thresholds_and_lag_of_own_types(self) -> None:
        from toolkit.eventsourcing.projections import projection_statuses

        client = self.client
        client.force_login(make_staff("viewer"))
        html = client.get(reverse("patterns_admin:index")).content.decode()
        status = projection_statuses()[0]
        assert status.unhealthy_lag > 0 and status.degraded_lag > 0
        assert (
            f"healthy up to {status.degraded_lag}, unhealthy above {status.unhealthy_lag}" in html
        )
        assert "of its own events behind" in html


class ResultCountTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        make_transitions(30, transition=lambda i: "pay" if i % 3 else "ship")

    def test_lists_show_an_exact_count_when_cheap(self) -> None:
        self.client.force_login(self.staff)
        html = self.client.get(AUDIT, {"transition": "ship"}).content.decode()
        assert '<p class="panel-result-count muted" data-exact="1">10 rows</p>' in html
        fragment = self.client.get(AUDIT, {"transition": "pay"}, headers={"HX-Request": "true"})
        assert 'data-exact="1">20 rows</p>' in fragment.content.decode()

    def test_above_the_limit_the_count_is_marked_as_an_estimate(self) -> None:
        from patterns_admin.selectors import result_count
        from toolkit.models import StateTransitionAudit

        count = result_count(StateTransitionAudit.objects.all(), limit=5)
        assert count.exact is False and count.value >= 6
        assert result_count(StateTransitionAudit.objects.all(), limit=30).value == 30


class LiveListTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        make_transitions(3)

    def test_the_newest_page_refreshes_itself_and_a_paged_one_does_not(self) -> None:
        self.client.force_login(self.staff)
        for url in (AUDIT, reverse("patterns_admin:command-list")):
            html = self.client.get(url).content.decode()
            assert 'data-live="1"' in html and "every 10s" in html, url
            paged = self.client.get(url, {"before": "1700000000000000_5"}).content.decode()
            assert 'data-live="1"' not in paged and "every 10s" not in paged, url


class FacetTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        from toolkit.models import CommandAuditLog

        cls.staff = make_staff("viewer")
        CommandAuditLog.objects.bulk_create(
            [CommandAuditLog(command="c.A", success=i % 4 != 0) for i in range(12)]
            + [CommandAuditLog(command="c.B", success=False)]
        )

    def test_choice_filters_show_how_many_rows_each_option_gives(self) -> None:
        self.client.force_login(self.staff)
        url = reverse("patterns_admin:command-list")
        html = self.client.get(url).content.decode()
        assert ">succeeded (9)</option>" in html and ">failed (4)</option>" in html
        assert ">execute (13)</option>" in html and ">undo (0)</option>" in html
        # A facet counts what the other filters keep.
        html = self.client.get(url, {"command": "c.B"}).content.decode()
        assert ">succeeded (0)</option>" in html and ">failed (1)</option>" in html
