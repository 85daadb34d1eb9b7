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


def check_out_three_carts() -> None:
    """Three checked-out carts of 20.00: three events for ``revenue_per_day``."""
    repo = cart_repository()
    for i in range(3):
        cart = ShoppingCart.open(f"cart-{i}", "Ada")
        cart.add_item("KB-101", 2, "10.00")
        cart.check_out()
        repo.save(cart)


class ProjectionPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.viewer = make_staff("viewer")
        cls.operator = make_staff("operator", "replay_events")
        check_out_three_carts()

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


DETAIL_URL = reverse("patterns_admin:projection-detail", args=["revenue_per_day"])
PAUSE_URL = reverse("patterns_admin:projection-pause", args=["revenue_per_day"])
REWIND_URL = reverse("patterns_admin:projection-rewind", args=["revenue_per_day"])


def _letter_url(pk: int, action: str) -> str:
    return reverse("patterns_admin:projection-dead-letter", args=["revenue_per_day", pk, action])


class ProjectionDetailTests(TestCase):
    """The per-projection page: segments, dead letters, pause, rewind, retry and drop."""

    @classmethod
    def setUpTestData(cls) -> None:
        from toolkit.eventsourcing.projections import catch_up
        from toolkit.models import ProjectionDeadLetter
        from toolkit.patterns.event_store import EventStore

        cls.viewer = make_staff("viewer")
        cls.operator = make_staff("operator", "replay_events")
        check_out_three_carts()
        catch_up("revenue_per_day")
        checked_out = [
            e for e in EventStore().read_all(0, 1000) if e.event_type.endswith("CheckedOut")
        ]
        cls.event = checked_out[0]
        cls.letter = ProjectionDeadLetter.objects.create(
            projection="revenue_per_day",
            position=cls.event.position,
            event_id=cls.event.event_id,
            aggregate_id=cls.event.aggregate_id,
            event_type=cls.event.event_type,
            attempts=5,
            error="KeyError: 'total'",
            traceback="Traceback (most recent call last): ...",
        )

    def test_detail_shows_health_segments_and_dead_letters(self) -> None:
        self.client.force_login(self.viewer)
        response = self.client.get(DETAIL_URL)
        html = response.content.decode()
        assert response.status_code == 200 and "<html" in html
        assert 'data-segment="0"' in html
        assert f'data-dead-letter="{self.letter.pk}"' in html
        assert "KeyError: &#x27;total&#x27;" in html
        assert "Actions need the permission patterns_admin.replay_events." in html
        fragment = self.client.get(DETAIL_URL, headers={"HX-Request": "true"}).content.decode()
        assert fragment.lstrip().startswith('<section id="detail"')

    def test_list_links_to_the_detail_page(self) -> None:
        self.client.force_login(self.viewer)
        html = self.client.get(LIST_URL).content.decode()
        assert f'href="{DETAIL_URL}"' in html

    def test_pause_and_resume_are_recorded(self) -> None:
        from toolkit.models import ProjectionCheckpoint

        self.client.force_login(self.operator)
        response = self.client.post(PAUSE_URL, {"action": "pause"}, headers={"HX-Request": "true"})
        html = response.content.decode()
        assert "Paused &#x27;revenue_per_day&#x27;." in html
        assert '<dd class="pa-status">paused</dd>' in html
        assert ProjectionCheckpoint.objects.get(name="revenue_per_day").paused
        response = self.client.post(PAUSE_URL, {"action": "resume"})
        assert response.status_code == 302 and response["Location"] == DETAIL_URL
        assert not ProjectionCheckpoint.objects.get(name="revenue_per_day").paused
        assert list(PanelActionLog.objects.order_by("pk").values_list("action", "user")) == [
            ("pause_projection", self.operator.pk),
            ("resume_projection", self.operator.pk),
        ]
        response = self.client.post(PAUSE_URL, {"action": "stop"}, headers={"HX-Request": "true"})
        assert (
            "Unknown action &#x27;stop&#x27; for &#x27;revenue_per_day&#x27;; valid choices are: "
            "&#x27;pause&#x27;, &#x27;resume&#x27;." in response.content.decode()
        )

    def test_actions_need_the_replay_permission(self) -> None:
        self.client.force_login(self.viewer)
        assert self.client.post(PAUSE_URL, {"action": "pause"}).status_code == 403
        assert self.client.get(REWIND_URL, {"position": "0"}).status_code == 403
        assert self.client.post(_letter_url(self.letter.pk, "drop")).status_code == 403
        assert not PanelActionLog.objects.filter(success=True).exists()  # refusals only
        reader = make_staff("reader", read=False)
        self.client.force_login(reader)
        assert self.client.get(DETAIL_URL).status_code == 403

    def test_rewind_confirmation_states_the_events_to_replay_then_rewinds(self) -> None:
        self.client.force_login(self.operator)
        page = self.client.get(REWIND_URL, {"position": "0"}).content.decode()
        assert "replays <strong>3</strong> events" in page
        assert "Rewind and replay 3 events" in page
        assert DailyRevenue.objects.get().carts == 3  # confirming is not rewinding
        response = self.client.post(REWIND_URL, {"position": "0"}, headers={"HX-Request": "true"})
        assert (
            "Rewound &#x27;revenue_per_day&#x27; to position 0: 0 event(s) replayed now, 3 left "
            "to the workers." in response.content.decode()
        )
        assert not DailyRevenue.objects.exists()
        log = PanelActionLog.objects.get()
        assert (log.action, log.detail) == ("rewind_projection", {"position": 0, "events": 3})

    def test_rewind_with_bad_input_changes_nothing(self) -> None:
        self.client.force_login(self.operator)
        for data, message in [
            ({}, "Give either a position or a timestamp to rewind to."),
            (
                {"position": "-3"},
                "Position &#x27;-3&#x27; is not a whole number from 0 to 9223372036854775807.",
            ),
            ({"position": "²"}, "Position &#x27;²&#x27; is not a whole number from 0"),
            ({"position": "9" * 20}, "Position &#x27;99999999999999999999&#x27; is not a whole"),
            (
                {"timestamp": "2026-02-30T25:61"},
                "Timestamp &#x27;2026-02-30T25:61&#x27; is not an ISO 8601 date and time",
            ),
            (
                {"timestamp": "soon"},
                "Timestamp &#x27;soon&#x27; is not an ISO 8601 date and time, "
                "e.g. 2026-12-01T00:00:00+00:00.",
            ),
        ]:
            response = self.client.post(REWIND_URL, data, headers={"HX-Request": "true"})
            assert message in response.content.decode()
        assert DailyRevenue.objects.get().carts == 3
        assert not PanelActionLog.objects.exists()

    def test_retry_confirms_one_event_then_applies_it_once(self) -> None:
        self.client.force_login(self.operator)
        url = _letter_url(self.letter.pk, "retry")
        page = self.client.get(url, headers={"HX-Request": "true"}).content.decode()
        assert page.lstrip().startswith("<form") and "replays <strong>1</strong> event" in page
        response = self.client.post(url, headers={"HX-Request": "true"})
        assert f"Dead letter #{self.letter.pk} of &#x27;revenue_per_day&#x27; applied." in (
            response.content.decode()
        )
        assert DailyRevenue.objects.get().carts == 4  # the dead letter's event, once more
        assert self.client.post(url).status_code == 404
        log = PanelActionLog.objects.get()
        assert (log.action, log.target, log.detail["position"]) == (
            "retry_dead_letter",
            f"projection:revenue_per_day#{self.letter.pk}",
            self.event.position,
        )

    def test_drop_removes_the_letter_without_applying_it(self) -> None:
        from toolkit.models import ProjectionDeadLetter

        self.client.force_login(self.operator)
        url = _letter_url(self.letter.pk, "drop")
        assert "replays <strong>0</strong> events" in self.client.get(url).content.decode()
        response = self.client.post(url)
        assert response.status_code == 302 and response["Location"] == DETAIL_URL
        assert not ProjectionDeadLetter.objects.exists()
        assert DailyRevenue.objects.get().carts == 3
        assert PanelActionLog.objects.get().action == "drop_dead_letter"

    def test_unknown_dead_letter_and_action_are_404(self) -> None:
        self.client.force_login(self.operator)
        assert self.client.get(_letter_url(999999, "retry")).status_code == 404
        assert self.client.get(_letter_url(self.letter.pk, "explode")).status_code == 404


class ProjectionListAidsTests(TestCase):
    """Search, status and health facets, result count and live refresh of the list."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.viewer = make_staff("viewer")
        cls.operator = make_staff("operator", "replay_events")

    def setUp(self) -> None:
        self.client.force_login(self.viewer)

    def test_facets_count_the_statuses_and_health_levels(self) -> None:
        from tests.patterns_admin.test_listing import facet, links, query
        from toolkit.eventsourcing.projections.operations import pause_projection

        html = self.client.get(LIST_URL).content.decode()
        statuses = facet(html, "status")
        assert statuses["idle"] == "1" and statuses["paused"] == "0"
        assert facet(html, "health") == {"healthy": "1", "degraded": "0", "unhealthy": "0"}
        assert 'data-exact="1">1 row</p>' in html
        assert ">idle (1)</option>" in html
        pause_projection("revenue_per_day")
        html = self.client.get(LIST_URL, {"health": "healthy"}).content.decode()
        assert facet(html, "status")["paused"] == "1"
        assert query(links(html, "data-value")["idle"]) == [
            ("health", "healthy"),
            ("status", "idle"),
        ]
        html = self.client.get(LIST_URL, {"status": "idle"}).content.decode()
        assert 'data-exact="1">0 rows</p>' in html and "No projection matches." in html
        assert 'data-projection="revenue_per_day"' not in html

    def test_search_by_name_any_case(self) -> None:
        html = self.client.get(LIST_URL, {"q": "REVENUE"}).content.decode()
        assert 'data-projection="revenue_per_day"' in html
        assert 'type="search"' in html
        html = self.client.get(LIST_URL, {"q": "<b>x</b>"}).content.decode()
        assert 'data-projection="revenue_per_day"' not in html and "<b>x</b>" not in html
        assert 'data-exact="1">0 rows</p>' in html

    def test_bad_filters_are_a_400_with_the_reason(self) -> None:
        response = self.client.get(LIST_URL, {"status": "sleeping"})
        assert response.status_code == 400
        assert "Status: Select a valid choice. sleeping is not one of the available" in (
            response.content.decode()
        )
        fragment = self.client.get(LIST_URL, {"status": "sleeping"}, headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        # A non-canonical query is redirected to the canonical one.
        response = self.client.get(LIST_URL, {"q": "", "status": "idle"})
        assert response.status_code == 302 and response["Location"] == f"{LIST_URL}?status=idle"

    def test_the_list_refreshes_itself_and_an_action_keeps_the_poll_on_the_list(self) -> None:
        html = self.client.get(LIST_URL, {"q": "rev"}).content.decode()
        assert f'hx-get="{LIST_URL}?q=rev"' in html and 'data-live="1"' in html
        assert ".pa-confirm-slot:not(:empty)" in html  # no refresh under an open confirmation
        self.client.force_login(self.operator)
        fragment = self.client.post(
            REBUILD_URL, {"confirmed": "1"}, headers={"HX-Request": "true"}
        ).content.decode()
        assert f'hx-get="{LIST_URL}"' in fragment and "rebuild/" not in fragment.split(">", 1)[0]
