"""The list aids of patterns_admin.listing (ListFilterSet) on the audit and command logs:
search box, date hierarchy, facet links and counts, and the estimate marking."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from patterns_admin.filters import CommandAuditFilter, TransitionAuditFilter
from patterns_admin.listing import Period
from patterns_admin.selectors import transition_audit_list
from tests.patterns_admin.conftest import make_staff, max_queries
from tests.services import require_postgres_db
from toolkit.models import CommandAuditLog, StateTransitionAudit

AUDIT = reverse("patterns_admin:audit-list")
COMMANDS = reverse("patterns_admin:command-list")


def local(year: int, month: int, day: int, hour: int = 12) -> datetime:
    """An aware datetime in the current time zone (the hierarchy's periods are local)."""
    return datetime(year, month, day, hour, tzinfo=timezone.get_current_timezone())


def rows_of(html: str) -> int:
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr") - body.count("panel-empty-row")


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url.replace("&amp;", "&")).query)


def facet(html: str, name: str) -> dict[str, str]:
    """Option value → its count as shown, in the facet ``name``."""
    block = html.split(f'data-facet="{name}"', 1)[1].split("</p>", 1)[0]
    counts = {}
    for chunk in block.split('data-value="')[1:]:
        value = chunk.split('"', 1)[0]
        counts[value] = chunk.split('panel-facet-count">', 1)[1].split("<", 1)[0]
    return counts


def links(html: str, marker: str) -> dict[str, str]:
    """``data-value`` / ``data-period`` → ``href`` of the navigation links carrying ``marker``."""
    found: dict[str, str] = {}
    for chunk in html.split(f'{marker}="')[1:]:
        value, rest = chunk.split('"', 1)
        tag = rest.split(">", 1)[0]
        if 'href="' in tag:
            found[value] = tag.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    return found


class SearchTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        cls.alice = User.objects.create_user("alice")
        rows = [
            ("A-1", "", None),
            ("a-2", "customer asked for 100% refund", None),
            ("A-3", "under_score and more", None),
            ("B-4", "<b>bold</b> reason", None),
            ("B-5", "", "alice"),
        ]
        StateTransitionAudit.objects.bulk_create(
            StateTransitionAudit(
                model="shop.order",
                object_id=object_id,
                machine="M",
                transition="pay",
                from_state="new",
                to_state="paid",
                reason=reason,
                user=cls.alice if user else None,
            )
            for object_id, reason, user in rows
        )

    def setUp(self) -> None:
        self.client.force_login(self.staff)

    def search(self, text: str, **params: str) -> set[str]:
        filterset = TransitionAuditFilter({"q": text, **params}, queryset=transition_audit_list())
        assert filterset.is_valid(), filterset.form.errors
        return {row.object_id for row in filterset.qs}

    def test_each_search_field_is_searched(self) -> None:
        # object id (exact, case-insensitive), reason (contains), user name (exact)
        assert self.search("a-1") == {"A-1"}
        assert self.search("refund") == {"a-2"}
        assert self.search("ALICE") == {"B-5"}
        # An id is matched whole, not as a part.
        assert self.search("A-") == set()

    def test_the_search_is_one_more_filter(self) -> None:
        assert self.search("refund", object_id="a-2") == {"a-2"}
        assert self.search("refund", object_id="A-1") == set()

    def test_like_wildcards_are_searched_literally(self) -> None:
        assert self.search("100%") == {"a-2"}
        assert self.search("%") == {"a-2"}
        assert self.search("_") == {"A-3"}
        assert self.search("r_f") == set()

    def test_an_empty_or_blank_search_keeps_every_row(self) -> None:
        assert len(self.search("")) == 5
        assert len(self.search("   ")) == 5
        # The page drops an empty q from the canonical URL (a redirect, not a 400).
        response = self.client.get(AUDIT, {"q": ""})
        assert response.status_code == 302 and "q=" not in response["Location"]

    def test_surrounding_blanks_are_ignored(self) -> None:
        assert self.search("  refund ") == {"a-2"}

    def test_the_page_escapes_the_search_and_shows_what_it_searches(self) -> None:
        html = self.client.get(AUDIT, {"q": "<b>bold</b>"}).content.decode()
        assert 'value="&lt;b&gt;bold&lt;/b&gt;"' in html
        assert "<b>bold</b>" not in html
        assert 'type="search"' in html and 'placeholder="object id, reason, user"' in html
        assert rows_of(html) == 1

    def test_a_too_long_search_is_a_400_with_the_reason(self) -> None:
        response = self.client.get(AUDIT, {"q": "x" * 201})
        assert response.status_code == 400
        assert "Search: Ensure this value has at most 200 characters" in response.content.decode()

    def test_the_command_log_searches_command_error_and_user(self) -> None:
        CommandAuditLog.objects.create(command="shop.Refund", user=self.alice)
        CommandAuditLog.objects.create(command="shop.Cancel", success=False, error="Boom: 50%")

        def found(text: str) -> set[str]:
            filterset = CommandAuditFilter({"q": text}, queryset=CommandAuditLog.objects.all())
            assert filterset.is_valid()
            return {row.command for row in filterset.qs}

        assert found("refund") == {"shop.Refund"}
        assert found("boom: 50%") == {"shop.Cancel"}
        assert found("alice") == {"shop.Refund"}
        assert found("shop.") == {"shop.Refund", "shop.Cancel"}
        html = self.client.get(COMMANDS, {"q": "refund"}).content.decode()
        assert 'data-exact="1">1 row</p>' in html


class SearchPlanTests(TestCase):
    """The search is an OR of conditions on the list's own table (the user name as a
    subquery, not a join), so PostgreSQL answers each branch from an index (migration 0008)."""

    def test_the_user_name_is_read_first_not_joined(self) -> None:
        alice = User.objects.create_user("alice")
        filterset = TransitionAuditFilter({"q": "ALICE"}, queryset=StateTransitionAudit.objects)
        assert filterset.is_valid()
        sql = str(filterset.qs.query).upper()
        assert "JOIN" not in sql and "SELECT" not in sql.split("WHERE", 1)[1]
        assert f"IN ({alice.pk})" in sql

    @pytest.mark.postgres
    def test_each_branch_of_the_search_has_its_index_on_postgresql(self) -> None:
        require_postgres_db()  # the expression and trigram indexes exist on PostgreSQL only
        cases = [
            (
                TransitionAuditFilter,
                StateTransitionAudit,
                "REF-12",
                {"tk_sta_object_upper", "tk_sta_reason_trgm"},
            ),
            (
                CommandAuditFilter,
                CommandAuditLog,
                "Invoice",
                {"tk_cal_command_trgm", "tk_cal_error_trgm"},
            ),
        ]
        for filter_class, model, text, indexes in cases:
            filterset = filter_class({"q": text}, queryset=model.objects.all())
            assert filterset.is_valid()
            with connection.cursor() as cursor:
                # On a tiny table any plan is cheap: leave the planner bitmap scans only (the
                # way a GIN index is read), so it must say which indexes answer the search.
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_indexscan = off")
                plan = filterset.qs.order_by().explain()
            assert all(name in plan for name in indexes), plan


class PeriodTests(TestCase):
    def test_parse_and_show(self) -> None:
        assert Period.parse("2026") == Period(2026)
        assert Period.parse("2026-02") == Period(2026, 2)
        assert Period.parse("2024-02-29") == Period(2024, 2, 29)
        assert [str(Period.parse(t)) for t in ("2026", "2026-02", "2026-02-03")] == [
            "2026",
            "2026-02",
            "2026-02-03",
        ]
        assert Period(2026, 12, 4).label == "4 December 2026"
        assert Period(2026, 12).parent() == Period(2026) and Period(2026).parent() is None

    def test_bounds_are_half_open_local_periods(self) -> None:
        start, end = Period(2026, 12).bounds()
        assert (start, end) == (local(2026, 12, 1, 0), local(2027, 1, 1, 0))
        start, end = Period(2026, 2, 28).bounds()
        assert end - start == timedelta(days=1)

    def test_bad_periods_say_why(self) -> None:
        for text, reason in (
            ("2026-13", "month must be in 1..12"),
            ("2026-02-30", "day is out of range for month"),
            ("0000", "year 0 does not exist"),
            ("26", "is not a year, month or day (YYYY, YYYY-MM or YYYY-MM-DD)"),
            ("2026-1", "is not a year, month or day"),
            ("2026/01", "is not a year, month or day"),
            ("２０２６", "is not a year, month or day"),
        ):
            with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
                Period.parse(text)


class DateHierarchyTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        stamps = [
            ("y24", local(2024, 11, 30)),
            ("m1", local(2025, 1, 15)),
            ("d3a", local(2025, 3, 3, 0)),
            ("d3b", local(2025, 3, 3, 23)),
            ("d5", local(2025, 3, 5)),
            ("m7", local(2025, 7, 1)),
            ("y26", local(2026, 2, 1)),
        ]
        for object_id, created in stamps:
            row = StateTransitionAudit.objects.create(
                model="shop.order",
                object_id=object_id,
                machine="M",
                transition="ship" if object_id == "d5" else "pay",
                from_state="new",
                to_state="paid",
            )
            # created_at is auto_now_add: set it afterwards.
            StateTransitionAudit.objects.filter(pk=row.pk).update(created_at=created)

    def setUp(self) -> None:
        self.client.force_login(self.staff)

    def ids(self, **params: str) -> set[str]:
        filterset = TransitionAuditFilter(params, queryset=transition_audit_list())
        assert filterset.is_valid(), filterset.form.errors
        return {row.object_id for row in filterset.qs}

    def test_a_period_keeps_its_rows_only(self) -> None:
        assert self.ids(date="2025") == {"m1", "d3a", "d3b", "d5", "m7"}
        assert self.ids(date="2025-03") == {"d3a", "d3b", "d5"}
        # Midnight to the last second of the day, both ends.
        assert self.ids(date="2025-03-03") == {"d3a", "d3b"}
        assert self.ids(date="2025-03-04") == set()
        assert self.ids(date="2025-03", transition="ship") == {"d5"}

    def test_drill_down_from_years_to_days(self) -> None:
        html = self.client.get(AUDIT).content.decode()
        years = links(html, "data-period")
        assert list(years) == ["2024", "2025", "2026"]
        assert query(years["2025"]) == [("date", "2025")]

        html = self.client.get(years["2025"]).content.decode()
        months = links(html, "data-period")
        # From the first to the last month with rows (Django admin without drilldown).
        assert list(months) == [f"2025-{m:02d}" for m in range(1, 8)]
        assert '<strong aria-current="true">2025</strong>' in html
        assert "‹ All dates</a>" in html
        assert rows_of(html) == 5

        html = self.client.get(months["2025-03"]).content.decode()
        days = links(html, "data-period")
        assert list(days) == ["2025-03-03", "2025-03-04", "2025-03-05"]
        assert ">‹ 2025</a>" in html and '<strong aria-current="true">March 2025</strong>' in html

        html = self.client.get(days["2025-03-03"]).content.decode()
        assert links(html, "data-period") == {}
        assert '<strong aria-current="true">3 March 2025</strong>' in html
        assert ">‹ March 2025</a>" in html
        assert rows_of(html) == 2

    def test_the_hierarchy_spans_what_the_other_filters_keep(self) -> None:
        html = self.client.get(AUDIT, {"transition": "ship"}).content.decode()
        assert list(links(html, "data-period")) == ["2025"]
        html = self.client.get(AUDIT, {"transition": "ship", "date": "2025"}).content.decode()
        assert list(links(html, "data-period")) == ["2025-03"]

    def test_period_links_drop_the_position_and_keep_sort_and_page_size(self) -> None:
        params = {"kind": "transitions", "sort": "transition", "per_page": "25", "page": "2"}
        html = self.client.get(AUDIT, params).content.decode()
        link = links(html, "data-period")["2025"]
        assert query(link) == [
            ("kind", "transitions"),
            ("sort", "transition"),
            ("per_page", "25"),
            ("date", "2025"),
        ]

    def test_bad_dates_are_a_400_with_the_reason_never_a_500(self) -> None:
        for value, message in (
            ("2026-13", "Date: &#x27;2026-13&#x27; is not a date: month must be in 1..12"),
            ("2025-02-29", "is not a date: day is out of range for month"),
            ("yesterday", "is not a year, month or day (YYYY, YYYY-MM or YYYY-MM-DD)"),
            ("0000", "year 0 does not exist"),
            ("9" * 40, "is not a year, month or day"),
            ("2025-03-03T10:00", "is not a year, month or day"),
        ):
            for url in (AUDIT, COMMANDS):
                response = self.client.get(url, {"date": value})
                assert response.status_code == 400, (url, value)
                html = response.content.decode()
                assert message in html, (url, value)
                fragment = self.client.get(url, {"date": value}, headers={"HX-Request": "true"})
                assert fragment.status_code == 200
                assert message in fragment.content.decode()

    def test_the_command_log_has_the_hierarchy_too(self) -> None:
        row = CommandAuditLog.objects.create(command="c.A")
        CommandAuditLog.objects.filter(pk=row.pk).update(created_at=local(2025, 6, 2))
        html = self.client.get(COMMANDS, {"date": "2025-06"}).content.decode()
        assert list(links(html, "data-period")) == ["2025-06-02"]
        assert 'data-exact="1">1 row</p>' in html


class FacetLinkTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        # shop.order: 6 pay, 3 ship; shop.cart: 2 pay.
        for model, transition, count in (
            ("shop.order", "pay", 6),
            ("shop.order", "ship", 3),
            ("shop.cart", "pay", 2),
        ):
            StateTransitionAudit.objects.bulk_create(
                StateTransitionAudit(
                    model=model,
                    object_id=f"{model}-{transition}-{i}",
                    machine="M",
                    transition=transition,
                    from_state="a",
                    to_state="b",
                )
                for i in range(count)
            )

    def setUp(self) -> None:
        self.client.force_login(self.staff)

    def suggestions(self) -> mock._patch:  # type: ignore[type-arg]
        return mock.patch.object(
            TransitionAuditFilter,
            "suggestions",
            lambda self: {"model": ["shop.cart", "shop.order"], "transition": ["pay", "ship"]},
        )

    def test_counts_are_over_the_other_filters(self) -> None:
        with self.suggestions():
            html = self.client.get(AUDIT).content.decode()
            assert facet(html, "model") == {"shop.cart": "2", "shop.order": "9"}
            assert facet(html, "transition") == {"pay": "8", "ship": "3"}
            html = self.client.get(AUDIT, {"model": "shop.order"}).content.decode()
            # The model facet ignores its own choice; the transition facet counts within it.
            assert facet(html, "model") == {"shop.cart": "2", "shop.order": "9"}
            assert facet(html, "transition") == {"pay": "6", "ship": "3"}
            assert 'data-exact="1">9 rows</p>' in html
            html = self.client.get(AUDIT, {"transition": "ship"}).content.decode()
            assert facet(html, "model") == {"shop.cart": "0", "shop.order": "3"}
            # Search and date count as other filters too.
            html = self.client.get(AUDIT, {"q": "shop.cart-pay-0"}).content.decode()
            assert facet(html, "model") == {"shop.cart": "1", "shop.order": "0"}

    def test_a_facet_link_drops_the_position_keeps_sort_and_size_and_never_repeats(self) -> None:
        params = {
            "kind": "transitions",
            "model": "shop.order",
            "transition": "pay",
            "sort": "-created_at",
            "per_page": "25",
            "before": "1700000000000000_5",
        }
        with self.suggestions():
            response = self.client.get(AUDIT, params)
        assert response.status_code == 200
        html = response.content.decode()
        block = html.split('data-facet="model"', 1)[1].split("</p>", 1)[0]
        model_links = links(block, "data-value")
        # The chosen option is not a link; the other one replaces the choice.
        assert list(model_links) == ["shop.cart"]
        pairs = query(model_links["shop.cart"])
        assert pairs == [
            ("kind", "transitions"),
            ("model", "shop.cart"),
            ("transition", "pay"),
            ("sort", "-created_at"),
            ("per_page", "25"),
        ]
        assert len({key for key, _ in pairs}) == len(pairs)
        # "any" removes the facet's key only.
        any_url = block.split('href="', 1)[1].split('"', 1)[0]
        assert dict(query(any_url)) == {
            "kind": "transitions",
            "transition": "pay",
            "sort": "-created_at",
            "per_page": "25",
        }

    def test_a_page_number_is_dropped_too(self) -> None:
        StateTransitionAudit.objects.bulk_create(
            StateTransitionAudit(model="shop.cart", object_id=str(i), transition="pay")
            for i in range(20)
        )
        with self.suggestions():
            response = self.client.get(AUDIT, {"sort": "model", "page": "2", "per_page": "25"})
        assert response.status_code == 200
        html = response.content.decode()
        for url in links(html, "data-value").values():
            keys = [key for key, _ in query(url)]
            assert "page" not in keys and "before" not in keys and keys.count("per_page") == 1

    def test_facets_and_counts_cost_one_query_whatever_the_options(self) -> None:
        # session, user, permissions (2), the page, every count in one, the hierarchy's span
        with self.suggestions(), max_queries(7):
            self.client.get(AUDIT, {"model": "shop.order"})

    def test_the_command_log_facets_link_and_count(self) -> None:
        CommandAuditLog.objects.bulk_create(
            [CommandAuditLog(command="c.A", success=i % 3 != 0) for i in range(6)]
        )
        html = self.client.get(COMMANDS, {"action": "execute"}).content.decode()
        assert facet(html, "success") == {"true": "4", "false": "2"}
        assert facet(html, "action") == {"execute": "6", "undo": "0"}
        assert dict(query(links(html, "data-value")["false"])) == {
            "action": "execute",
            "success": "false",
        }


class EstimateTests(TestCase):
    """Above the exact limit a count is the planner's estimate on PostgreSQL and a lower bound
    elsewhere; the limit is forced low rather than inserting millions of rows."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        StateTransitionAudit.objects.bulk_create(
            StateTransitionAudit(
                model="shop.order",
                object_id=str(i),
                machine="M",
                transition="pay" if i < 40 else "ship",
                from_state="a",
                to_state="b",
            )
            for i in range(43)
        )

    def setUp(self) -> None:
        self.client.force_login(self.staff)

    def page(self, **params: str) -> str:
        with (
            mock.patch("patterns_admin.selectors.EXACT_COUNT_LIMIT", 5),
            mock.patch("patterns_admin.selectors.FACET_COUNT_LIMIT", 5),
            mock.patch.object(
                TransitionAuditFilter,
                "suggestions",
                lambda self: {"transition": ["pay", "ship"], "model": ["shop.order"]},
            ),
        ):
            return self.client.get(AUDIT, params).content.decode()

    def test_facet_options_are_counted_to_a_lower_limit_than_the_result(self) -> None:
        with (
            mock.patch("patterns_admin.selectors.EXACT_COUNT_LIMIT", 100),
            mock.patch("patterns_admin.selectors.FACET_COUNT_LIMIT", 5),
            mock.patch.object(
                TransitionAuditFilter, "suggestions", lambda self: {"transition": ["pay", "ship"]}
            ),
        ):
            html = self.client.get(AUDIT).content.decode()
        assert 'data-exact="1">43 rows</p>' in html
        assert facet(html, "transition")["ship"] == "3"
        assert facet(html, "transition")["pay"] != "40"  # an estimate or a lower bound

    def test_a_search_is_counted_only_to_the_facet_limit(self) -> None:
        """A search's result stops at FACET_COUNT_LIMIT, not EXACT_COUNT_LIMIT (a search
        matching one row in three would read 3 x EXACT_COUNT_LIMIT rows); below it, exact."""
        StateTransitionAudit.objects.bulk_create(
            StateTransitionAudit(
                model="shop.order",
                object_id=f"late-{i}",
                machine="M",
                transition="ship",
                from_state="a",
                to_state="b",
                reason="paid late",
            )
            for i in range(8)
        )
        with (
            mock.patch("patterns_admin.selectors.EXACT_COUNT_LIMIT", 100),
            mock.patch("patterns_admin.selectors.FACET_COUNT_LIMIT", 5),
            mock.patch.object(
                TransitionAuditFilter, "suggestions", lambda self: {"transition": ["ship"]}
            ),
        ):
            unsearched = self.client.get(AUDIT).content.decode()
            searched = self.client.get(AUDIT, {"q": "late"}).content.decode()
            few = self.client.get(AUDIT, {"q": "late-3"}).content.decode()
            blank = self.client.get(AUDIT, {"q": "  "}).content.decode()
        assert 'data-exact="1">51 rows</p>' in unsearched
        assert 'data-exact="1">51 rows</p>' in blank
        result = searched.split('class="panel-result-count', 1)[1].split("</p>", 1)[0]
        # Not the exact 8: a lower bound, or the planner's estimate (which may be "about 28").
        assert 'data-exact="0"' in result and '">8 rows' not in result
        assert 'data-exact="1">1 row' in few

    def test_small_counts_stay_exact_under_the_forced_limit(self) -> None:
        html = self.page(transition="ship")
        assert 'data-exact="1">3 rows</p>' in html

    @pytest.mark.postgres
    def test_postgresql_marks_the_planner_estimate(self) -> None:
        require_postgres_db()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE toolkit_statetransitionaudit")
        html = self.page()
        result = html.split('class="panel-result-count', 1)[1].split("</p>", 1)[0]
        assert 'data-exact="0"' in result and "(estimate)" in result
        estimate = int(result.split("about ", 1)[1].split(" ", 1)[0])
        assert estimate >= 6
        transition = facet(html, "transition")
        assert transition["ship"] == "3"
        assert transition["pay"].startswith("≈") and int(transition["pay"][1:]) >= 6

    def test_other_databases_mark_a_lower_bound(self) -> None:
        if connection.vendor == "postgresql":
            pytest.skip("PostgreSQL estimates (test_postgresql_marks_the_planner_estimate)")
        html = self.page()
        assert 'data-exact="0">more than 5 rows</p>' in html
        transition = facet(html, "transition")
        assert transition == {"pay": "5+", "ship": "3"}
