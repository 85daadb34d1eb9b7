"""The panel's home page: counts, recent activity, projection health, links."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patterns_admin.audit import record_action
from patterns_admin.selectors import Count, table_counts
from tests.patterns_admin.conftest import make_staff, make_transitions, max_queries
from tests.services import require_postgres_db
from toolkit.models import CommandAuditLog, EventStream, StateTransitionAudit

URL = reverse("patterns_admin:index")


class HomeTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        StateTransitionAudit.objects.create(
            model="shop.order",
            object_id="7",
            machine="OrderMachine",
            transition="pay",
            from_state="new",
            to_state="paid",
            user=cls.staff,
        )
        CommandAuditLog.objects.create(command="demo.commands.Refund", user=cls.staff)

    def setUp(self) -> None:
        self.client.force_login(self.staff)

    def test_anonymous_is_sent_to_the_admin_login(self) -> None:
        response = Client().get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    def test_non_staff_is_sent_to_the_admin_login(self) -> None:
        user = User.objects.create_user("customer", password="pw")
        client = Client()
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    def test_full_page_has_counts_links_and_layout(self) -> None:
        response = self.client.get(URL)
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
        html = response.content.decode()
        assert "<html" in html
        assert 'hx-headers=\'{"x-csrftoken": ' in html
        assert "htmx" in html and "panel.css" in html
        assert f'href="{reverse("patterns_admin:audit-list")}?kind=transitions"' in html
        assert f'href="{reverse("patterns_admin:command-list")}"' in html
        assert "shop.order #7: pay (new → paid)" in html
        assert "execute Refund" in html

    def test_htmx_request_gets_only_the_activity_fragment(self) -> None:
        response = self.client.get(URL, headers={"HX-Request": "true"})
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert html.strip().startswith('<div id="activity"')
        assert "shop.order #7: pay (new → paid)" in html

    def test_boosted_request_gets_the_full_page(self) -> None:
        response = self.client.get(URL, headers={"HX-Request": "true", "HX-Boosted": "true"})
        assert "<html" in response.content.decode()

    def test_panel_actions_appear_escaped_in_recent_activity(self) -> None:
        record_action(user=self.staff, action="toggle_plugin", target="<script>alert(1)</script>")
        html = self.client.get(URL).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_activity_links_encode_the_filter_values(self) -> None:
        StateTransitionAudit.objects.create(
            model="shop.order", object_id="a&b #1", machine="M", transition="pay",
            from_state="new", to_state="paid",
        )  # fmt: skip
        html = self.client.get(URL).content.decode()
        audit = reverse("patterns_admin:audit-list")
        assert (
            f'href="{audit}?kind=transitions&amp;model=shop.order&amp;object_id=a%26b+%231"' in html
        )
        assert f'href="{audit}?kind=commands&amp;command=demo.commands.Refund"' in html

    def test_empty_projection_state_is_explained(self) -> None:
        with mock.patch("patterns_admin.views.home._projection_statuses", return_value=[]):
            html = self.client.get(URL).content.decode()
        assert "No projections registered." in html

    def test_projection_health_shows_lag_and_escaped_errors(self) -> None:
        from toolkit.eventsourcing.projections.base import ProjectionStatus

        common = {"head": 100, "updated_at": None, "degraded_lag": 50, "unhealthy_lag": 90}
        statuses = [
            ProjectionStatus(
                name="revenue", position=90, lag=10, last_error="", healthy=True, **common
            ),
            ProjectionStatus(
                name="stock",
                position=3,
                lag=97,
                last_error="KeyError: <script>x</script>",
                healthy=False,
                health="unhealthy",
                lag_exact=False,
                problems=("lag 97 events > 90 (unhealthy)",),
                **common,
            ),
        ]
        with mock.patch("patterns_admin.views.home._projection_statuses", return_value=statuses):
            html = self.client.get(URL).content.decode()
        assert "<td>revenue</td>" in html
        assert '<td>≤ 97 <span class="muted">of its own events behind</span></td>' in html
        assert "healthy up to 50, unhealthy above 90" in html
        assert "lag 97 events &gt; 90 (unhealthy)" in html
        assert '<span class="badge badge-ok">healthy</span>' in html
        assert "KeyError: &lt;script&gt;x&lt;/script&gt;" in html
        assert "<script>x</script>" not in html
        assert "No projections registered." not in html

    def test_admin_index_links_to_the_panel(self) -> None:
        admin = User.objects.create_superuser("root", "root@example.com", "pw")
        client = Client()
        client.force_login(admin)
        html = client.get(reverse("admin:index")).content.decode()
        assert 'id="patterns-panel-module"' in html
        assert f'href="{URL}"' in html
        for name in (
            "audit-list",
            "command-list",
            "stream-list",
            "projection-list",
            "diagram-list",
            "plugin-list",
            "cqrs-list",
        ):
            assert f'href="{reverse("patterns_admin:" + name)}"' in html, name

    @pytest.mark.postgres
    def test_big_tables_show_the_planner_estimate_on_postgresql(self) -> None:
        require_postgres_db()
        make_transitions(30)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE toolkit_statetransitionaudit")
        with mock.patch("patterns_admin.selectors.EXACT_COUNT_LIMIT", 5):
            counts = table_counts(StateTransitionAudit, CommandAuditLog)
            html = self.client.get(URL).content.decode()
        assert counts == [Count(31, exact=False), Count(1, exact=True)]
        assert '<div class="value">≈ 31</div>' in html

    @pytest.mark.postgres
    def test_tables_above_ten_thousand_rows_are_not_counted_on_postgresql(self) -> None:
        # A full COUNT(*) of such a table on every load of the home page is what issue 4
        # rules out; the bench measured 5 ms for 90,000 streams.
        require_postgres_db()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO toolkit_eventstream"
                " (aggregate_id, aggregate_type, last_sequence, created_at, updated_at)"
                " SELECT 's-' || g, 'T', 1, now(), now() FROM generate_series(1, 10001) g"
            )
            cursor.execute("ANALYZE toolkit_eventstream")
        with CaptureQueriesContext(connection) as captured:
            counts = table_counts(EventStream, CommandAuditLog)
        assert counts == [Count(10001, exact=False), Count(1, exact=True)]
        assert 'FROM "toolkit_eventstream"' not in captured.captured_queries[-1]["sql"]

    def test_counts_are_exact_on_small_tables(self) -> None:
        assert table_counts(StateTransitionAudit, CommandAuditLog) == [
            Count(1, exact=True),
            Count(1, exact=True),
        ]

    def test_home_page_query_count_is_bounded(self) -> None:
        with max_queries(12):
            self.client.get(URL)
        make_transitions(30, user=self.staff)
        with max_queries(12):
            self.client.get(URL)


def test_activity_says_just_now_under_a_minute_then_how_long_ago() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from patterns_admin.selectors import Activity

    now = timezone.now()
    fresh = Activity(when=now - timedelta(seconds=20), kind="panel", text="x", user="", url="")
    older = Activity(
        when=now - timedelta(minutes=7, seconds=5), kind="panel", text="x", user="", url=""
    )
    assert fresh.ago == "just now"
    assert older.ago == "7\xa0minutes ago"
