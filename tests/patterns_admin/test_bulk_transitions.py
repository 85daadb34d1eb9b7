"""Issue 14, item 6: bulk transitions from the panel's object list and per-state counts, with
a dry-run preview, a required reason, one transaction per object and a per-object report."""

from __future__ import annotations

import html as html_lib
import time
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, TestCase
from django.urls import reverse

from demo.shop.models import Order
from patterns_admin import transitions as service
from patterns_admin.models import PanelActionLog
from tests.patterns_admin.conftest import make_staff
from tests.patterns_admin.queries import view_queries
from toolkit.models import StateTransitionAudit
from toolkit.registry import machines

LIST_URL = reverse("patterns_admin:object-list", args=["shop", "order"])
PREVIEW_URL = reverse("patterns_admin:bulk-transition-preview", args=["shop", "order"])
RUN_URL = reverse("patterns_admin:bulk-transition-run", args=["shop", "order"])
HTMX = {"HX-Request": "true"}
GUARD = "cannot cancel an order over 1000 without a manager"


def text(response: Any) -> str:
    """The response's body with HTML entities decoded (quotes in messages are escaped)."""
    return html_lib.unescape(response.content.decode())


def order(customer: str, total: str = "10.00", **fields: object) -> Order:
    return Order.objects.create(
        customer=customer, email=f"{customer.lower()}@example.com", total=Decimal(total), **fields
    )


class BulkTransitionTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.reader = make_staff("reader")
        cls.operator = make_staff("operator", "trigger_transition")
        cls.small = [order(f"Small{i}") for i in range(3)]
        cls.large = [order(f"Large{i}", "5000.00") for i in range(2)]
        cls.paid = order("Paid")
        machines.get("OrderMachine").trigger(cls.paid, "pay", user=cls.operator)

    def setUp(self) -> None:
        self.client.force_login(self.operator)

    def ids(self, *orders: Order) -> list[str]:
        return [str(o.pk) for o in orders]

    def preview(self, client: Client | None = None, **params: object) -> str:
        response = (client or self.client).get(PREVIEW_URL, params)
        assert response.status_code == 200, response.content.decode()
        return response.content.decode()

    def token(self, **params: object) -> str:
        response = self.client.get(PREVIEW_URL, params)
        token: str = response.context["token"]
        assert token
        return token

    def statuses(self) -> dict[int, str]:
        return dict(Order.objects.values_list("pk", "status"))

    # -- the object list and the counts ----------------------------------------------------

    def test_object_list_shows_objects_with_checkboxes_and_filters_by_state(self) -> None:
        response = self.client.get(LIST_URL, {"state": "pending"})
        html = response.content.decode()
        assert response.status_code == 200 and "HX-Request" in response["Vary"]
        for o in (*self.small, *self.large):
            assert f'name="ids" value="{o.pk}"' in html
        assert f'value="{self.paid.pk}"' not in html
        # the per-state form offers only the transitions that leave the state
        assert '<input type="hidden" name="state" value="pending">' in html
        assert '<option value="cancel">cancel → cancelled</option>' in html
        assert '<option value="ship">ship → shipped</option>' not in html
        fragment = self.client.get(LIST_URL, {"state": "paid"}, headers=HTMX).content.decode()
        assert fragment.lstrip().startswith('<section id="objects"')
        assert f'name="ids" value="{self.paid.pk}"' in fragment

    def test_object_list_pages_by_primary_key(self) -> None:
        Order.objects.bulk_create(Order(customer=f"C{i}", email="c@example.com") for i in range(60))
        html = self.client.get(LIST_URL).content.decode()
        assert html.count('name="ids"') == 50
        first_page_last = list(Order.objects.order_by("pk").values_list("pk", flat=True))[49]
        assert f"after={first_page_last}" in html
        html = self.client.get(LIST_URL, {"after": first_page_last}).content.decode()
        assert html.count('name="ids"') == 66 - 50

    def test_object_list_bad_input_is_400(self) -> None:
        for url, params, message in [
            (LIST_URL, {"state": "nope"}, "state: 'nope' is not a state of OrderMachine"),
            (LIST_URL, {"after": "x"}, "after: 'x' is not a primary key"),
            (LIST_URL, {"state": "a\x00"}, "null characters"),
            (
                reverse("patterns_admin:object-list", args=["shop", "nope"]),
                {},
                "Unknown model shop.nope",
            ),
            (
                reverse("patterns_admin:object-list", args=["shop", "dailyrevenue"]),
                {},
                "No state machine drives shop.DailyRevenue",
            ),
        ]:
            response = self.client.get(url, params)
            assert response.status_code == 400, (url, params)
            assert message in text(response), (url, params)

    def test_object_list_searches_as_the_admin_change_list_with_the_state_and_pages(
        self,
    ) -> None:
        html = text(self.client.get(LIST_URL, {"q": "large"}))
        for o in self.large:
            assert f'name="ids" value="{o.pk}"' in html
        for o in (*self.small, self.paid):
            assert f'name="ids" value="{o.pk}"' not in html
        assert 'name="q" value="large"' in html and "customer, email" in html
        assert "Orders matching “large”" in html
        # the state links and the search keep each other
        assert f'href="{LIST_URL}?state=pending&q=large"' in html
        html = text(self.client.get(LIST_URL, {"q": "example.com", "state": "paid"}))
        assert f'name="ids" value="{self.paid.pk}"' in html
        assert html.count('name="ids"') == 1
        assert '<input type="hidden" name="state" value="paid">' in html
        assert f'href="{LIST_URL}?state=paid"' in html  # clear the search, keep the state
        html = text(self.client.get(LIST_URL, {"q": "nobody"}))
        assert 'name="ids" value=' not in html
        assert "No shop.order matching “nobody”" in html
        # paging keeps the search
        Order.objects.bulk_create(
            Order(customer=f"Many{i}", email="m@example.com") for i in range(55)
        )
        html = self.client.get(LIST_URL, {"q": "many"}).content.decode()
        assert html.count('name="ids"') == 50
        last = list(
            Order.objects.filter(customer__startswith="Many")
            .order_by("pk")
            .values_list("pk", flat=True)
        )[49]
        assert f"?q=many&amp;after={last}" in html
        html = self.client.get(LIST_URL, {"q": "many", "after": last}).content.decode()
        assert html.count('name="ids"') == 5
        assert f'href="{LIST_URL}?q=many">‹ First page' in html

    def test_object_list_search_bad_input_is_400(self) -> None:
        from django.contrib import admin

        for params, message in [
            ({"q": "a\x00b"}, "q: null characters are not allowed"),
            ({"q": "x" * 201}, "q: at most 200 characters (got 201)."),
        ]:
            response = self.client.get(LIST_URL, params)
            assert response.status_code == 400, params
            assert message in text(response), params
        with mock.patch.object(admin.site._registry[Order], "search_fields", ()):
            html = self.client.get(LIST_URL).content.decode()
            assert 'name="q"' not in html  # no search box without search fields
            response = self.client.get(LIST_URL, {"q": "large"})
            assert response.status_code == 400
            assert "q: shop.Order has no search_fields in its admin" in text(response)

    def test_diagram_counts_link_to_the_objects_and_offer_the_bulk_preview(self) -> None:
        url = reverse("patterns_admin:diagram-detail", args=["OrderMachine"])
        html = self.client.get(url).content.decode()
        assert f'<a href="{LIST_URL}?state=pending" title="The objects in pending">5</a>' in html
        assert f'<form method="get" action="{PREVIEW_URL}" class="pa-bulk-count">' in html
        # staff who may not read the audit log see the counts only
        self.client.force_login(make_staff("plain", read=False))
        html = self.client.get(url).content.decode()
        assert '<td class="num">5</td>' in html and "pa-bulk-count" not in html

    # -- preview ---------------------------------------------------------------------------

    def test_preview_counts_groups_blocked_by_reason_and_changes_nothing(self) -> None:
        before = self.statuses()
        ids = self.ids(*self.small, *self.large, self.paid)
        response = self.client.get(PREVIEW_URL, {"transition": "ship", "ids": ids})
        assert response.status_code == 200
        preview = response.context["preview"]
        assert (len(preview.ready), len(preview.blocked)) == (0, 6)
        groups = {g["reason"]: g["count"] for g in response.context["blocked_groups"]}
        assert groups == {
            "Cannot 'ship' from state 'pending'; transitions allowed from this state: "
            "'cancel', 'pay'": 5,
            "cannot ship an order without an address": 1,
        }
        html = self.preview(transition="cancel", ids=ids)
        assert 'data-count="ready">Will succeed: 4<' in html
        assert 'data-count="blocked">Blocked: 2<' in html
        assert f'<strong>2</strong> × <span class="pa-reason">{GUARD}</span>' in html
        for o in self.large:
            assert f'data-pk="{o.pk}">{o}</a>' in html
        assert 'name="reason"' in html and "required" in html
        assert self.statuses() == before
        assert not StateTransitionAudit.objects.filter(transition="cancel").exists()
        assert not PanelActionLog.objects.exists()

    def test_preview_of_a_state_covers_every_object_in_it(self) -> None:
        html = self.preview(transition="cancel", state="pending")
        assert "every order in state pending" in html
        assert 'data-count="ready">Will succeed: 3<' in html
        assert 'data-count="blocked">Blocked: 2<' in html

    def test_preview_of_a_large_state_is_capped_and_lists_a_few_blocked(self) -> None:
        Order.objects.bulk_create(
            Order(customer=f"B{i}", email="b@example.com", total=Decimal("2000")) for i in range(30)
        )
        with mock.patch.object(service, "BULK_LIMIT", 25):
            response = self.client.get(PREVIEW_URL, {"transition": "cancel", "state": "pending"})
        preview = response.context["preview"]
        assert (preview.total, len(preview.items), preview.left_for_later) == (35, 25, 10)
        group = response.context["blocked_groups"][0]
        assert (group["count"], len(group["items"]), group["more"]) == (22, 20, 2)
        html = response.content.decode()
        assert "10 are left for a later run" in html and " and 2 more" in html

    def test_counts_above_the_exact_limit_are_estimates_not_a_table_scan(self) -> None:
        """A state above ``FACET_COUNT_LIMIT`` objects (the preview: ``EXACT_COUNT_LIMIT``)
        shows the planner's estimate (PostgreSQL) or a lower bound (SQLite) in the object list,
        the diagram's counts and the preview, as the list facets do; a smaller state stays
        exact."""
        Order.objects.bulk_create(Order(customer=f"C{i}", email="c@example.com") for i in range(20))
        diagram = reverse("patterns_admin:diagram-detail", args=["OrderMachine"])
        with (
            mock.patch("patterns_admin.selectors.EXACT_COUNT_LIMIT", 10),
            mock.patch("patterns_admin.selectors.FACET_COUNT_LIMIT", 10),
            mock.patch.object(service, "BULK_LIMIT", 4),
        ):
            listing = self.client.get(LIST_URL, {"state": "pending"})
            counts = self.client.get(diagram).content.decode()
            response = self.client.get(PREVIEW_URL, {"transition": "cancel", "state": "pending"})
        html = text(listing)
        preview = response.context["preview"]
        assert not listing.context["counts"]["pending"].exact
        assert listing.context["counts"]["paid"].exact and "paid (1)" in html
        if connection.vendor == "postgresql":
            assert (
                "pending (≈" in html and "All (≈" in html and "Every object in pending (≈" in html
            )
            assert 'title="The objects in pending">≈' in counts
            assert preview.total_label.startswith("≈") and preview.total >= 11
            assert f"{preview.total_label} objects in state" in text(response)
        else:  # no planner estimate: at least limit + 1
            assert "pending (10+)" in html and "All (11+)" in html
            assert 'title="The objects in pending">10+</a>' in counts
            assert (preview.total_label, preview.left_for_later_label) == ("10+", "6+")
            assert "10+ objects in state" in text(response)
            assert "6+ are left for a later run" in text(response)
        assert len(preview.items) == 4  # the three small orders, then a large one (blocked)
        assert 'data-count="ready">Will succeed: 3<' in text(response)

    def test_preview_query_count_does_not_grow_with_the_selection(self) -> None:
        small = len(view_queries(self.client, f"{PREVIEW_URL}?transition=deliver&state=pending"))
        Order.objects.bulk_create(Order(customer=f"C{i}", email="c@example.com") for i in range(40))
        assert (
            len(view_queries(self.client, f"{PREVIEW_URL}?transition=deliver&state=pending"))
            == small
        )

    def test_preview_htmx_gets_the_fragment(self) -> None:
        response = self.client.get(
            PREVIEW_URL, {"transition": "cancel", "ids": self.ids(*self.small)}, headers=HTMX
        )
        assert response.content.decode().lstrip().startswith('<section id="bulk"')

    def test_reader_previews_but_is_not_offered_the_run(self) -> None:
        client = Client()
        client.force_login(self.reader)
        html = self.preview(client, transition="cancel", ids=self.ids(*self.small))
        assert 'data-count="ready">Will succeed: 3<' in html
        assert "pa-bulk-run" not in html and "patterns_admin.trigger_transition" in html

    def test_bad_preview_input_is_400_with_a_message(self) -> None:
        pk = str(self.small[0].pk)
        cases = [
            ({"transition": "fly", "ids": [pk]}, "transition: 'fly' is not a transition"),
            ({"ids": [pk]}, "transition: choose one of 'pay', 'ship'"),
            ({"transition": "pay"}, "No object selected"),
            ({"transition": "pay", "ids": [""]}, "No object selected"),
            ({"transition": "pay", "ids": ["abc"]}, "ids: 'abc' is not a primary key"),
            ({"transition": "pay", "ids": ["1\x00"]}, "null characters"),
            ({"transition": "pay", "state": "lost"}, "state: 'lost' is not a state"),
            ({"transition": "pay", "state": "pending", "ids": [pk]}, "not both"),
            (
                {"transition": "pay", "ids": [str(i) for i in range(service.BULK_LIMIT + 1)]},
                f"Too many objects selected: {service.BULK_LIMIT + 1}; at most 500 per run",
            ),
            # more fields than Django parses (DATA_UPLOAD_MAX_NUMBER_FIELDS): the same message
            (
                {"transition": "pay", "ids": [str(i) for i in range(5000)]},
                "Too many objects selected; at most 500 per run",
            ),
        ]
        for params, message in cases:
            for headers in ({}, HTMX):
                response = self.client.get(PREVIEW_URL, params, headers=headers)
                assert response.status_code == 400, params
                assert message in text(response), (params, response.content)
        response = self.client.get(
            reverse("patterns_admin:bulk-transition-preview", args=["shop", "nope"]),
            {"transition": "pay", "ids": [pk]},
        )
        assert response.status_code == 400
        assert "Unknown model shop.nope" in text(response)

    def test_unknown_ids_are_listed_as_blocked(self) -> None:
        html = self.preview(transition="cancel", ids=[str(self.small[0].pk), "999999"])
        assert "no such object (deleted?)" in html
        assert 'data-count="ready">Will succeed: 1<' in html

    # -- run --------------------------------------------------------------------------------

    def test_run_triggers_each_ready_object_stores_the_reason_and_reports(self) -> None:
        ids = self.ids(*self.small, *self.large)
        token = self.token(transition="cancel", ids=ids)
        response = self.client.post(RUN_URL, {"preview": token, "reason": "customer asked"})
        report = PanelActionLog.objects.get(action="bulk_transition")
        report_url = reverse("patterns_admin:bulk-transition-report", args=[report.pk])
        assert response.status_code == 302 and response["Location"] == report_url
        assert Order.objects.filter(status="cancelled").count() == 3
        assert all(
            s == "pending"
            for s in Order.objects.filter(pk__in=self.ids(*self.large)).values_list(
                "status", flat=True
            )
        )
        rows = StateTransitionAudit.objects.filter(transition="cancel")
        assert rows.count() == 3
        assert set(rows.values_list("reason", flat=True)) == {"customer asked"}
        assert set(rows.values_list("user", flat=True)) == {self.operator.pk}
        # one action-log row per triggered object, plus the report
        assert PanelActionLog.objects.filter(action="trigger_transition", success=True).count() == 3
        assert report.user == self.operator and report.success
        assert (report.detail["done"], report.detail["refused"], report.detail["skipped"]) == (
            3,
            0,
            2,
        )
        by_pk = {r["pk"]: r for r in report.detail["results"]}
        assert by_pk[str(self.small[0].pk)]["status"] == "ok"
        assert by_pk[str(self.large[0].pk)] == {
            "pk": str(self.large[0].pk),
            "label": str(self.large[0]),
            "status": "skipped",
            "message": f"blocked at preview: {GUARD}",
            "from_state": "",
            "to_state": None,
        }
        page = self.client.get(report_url)
        html = page.content.decode()
        assert "Cancel: 3 of 3 done, 0 refused, 2 skipped (blocked at preview)" in html  # message
        assert f'<a href="{report_url}">Per-object report</a>' in html
        assert "customer asked" in html
        assert html.count('data-status="ok"') == 3 and html.count('data-status="skipped"') == 2

    def test_object_changed_since_the_preview_is_reported_not_forced(self) -> None:
        machine = machines.get("OrderMachine")
        token = self.token(transition="cancel", ids=self.ids(*self.small))
        # meanwhile, someone pays one order (cancel is allowed from paid too: it must not run)
        raced = Order.objects.get(pk=self.small[0].pk)
        machine.trigger(raced, "pay", user=self.operator)
        gone = self.small[1].pk
        Order.objects.filter(pk=gone).delete()
        self.client.post(RUN_URL, {"preview": token, "reason": "cleanup"})
        assert Order.objects.get(pk=raced.pk).status == "paid"
        assert Order.objects.get(pk=self.small[2].pk).status == "cancelled"
        report = PanelActionLog.objects.get(action="bulk_transition")
        by_pk = {r["pk"]: r for r in report.detail["results"]}
        assert by_pk[str(raced.pk)]["status"] == "refused"
        assert by_pk[str(raced.pk)]["message"] == (
            "changed since the preview: was 'pending', now 'paid'; not triggered"
        )
        assert by_pk[str(gone)]["message"] == "no longer exists; not triggered"
        assert (report.detail["done"], report.detail["refused"]) == (1, 2)
        assert not report.success
        refused = PanelActionLog.objects.filter(action="trigger_transition", success=False)
        assert refused.count() == 2

    def test_a_race_inside_the_run_is_refused_by_the_conditional_update(self) -> None:
        """The state moves between the run's read and its UPDATE: the machine's conditional
        UPDATE finds no row, that object is refused, the others still move."""
        token = self.token(transition="cancel", ids=self.ids(*self.small))
        first = self.small[0].pk
        real_trigger = service.trigger_transition

        def racing(target: service.MachineObject, name: str, **kwargs: object) -> object:
            if target.obj.pk == first:
                Order.objects.filter(pk=first).update(status="paid")
            return real_trigger(target, name, **kwargs)  # type: ignore[arg-type]

        with mock.patch.object(service, "trigger_transition", racing):
            self.client.post(RUN_URL, {"preview": token, "reason": "cleanup"})
        report = PanelActionLog.objects.get(action="bulk_transition")
        by_pk = {r["pk"]: r for r in report.detail["results"]}
        assert by_pk[str(first)]["status"] == "refused"
        assert "no longer in state 'pending' (now 'paid')" in by_pk[str(first)]["message"]
        assert Order.objects.get(pk=first).status == "paid"
        assert Order.objects.filter(status="cancelled").count() == 2
        assert StateTransitionAudit.objects.filter(transition="cancel").count() == 2

    def test_a_guard_that_fails_at_run_time_is_refused_with_its_reason(self) -> None:
        token = self.token(transition="cancel", ids=self.ids(*self.small))
        Order.objects.filter(pk=self.small[0].pk).update(total=Decimal("9999"))
        self.client.post(RUN_URL, {"preview": token, "reason": "cleanup"})
        report = PanelActionLog.objects.get(action="bulk_transition")
        by_pk = {r["pk"]: r for r in report.detail["results"]}
        assert by_pk[str(self.small[0].pk)]["status"] == "refused"
        assert GUARD in by_pk[str(self.small[0].pk)]["message"]
        assert report.detail["done"] == 2

    def test_an_unexpected_error_refuses_its_object_and_the_run_goes_on(self) -> None:
        """A bug in a guard (or a database error) on one object: that object is rolled back
        and reported, the others move, and the report is written; the preview blocks it."""
        from demo.shop import machines as shop_machines

        first = self.small[0].pk
        real = shop_machines.small_or_manager.func

        def buggy(entity: Order, user: Any) -> bool:
            if entity.pk == first:
                raise RuntimeError("guard bug")
            return real(entity, user)

        with mock.patch.object(shop_machines.small_or_manager, "func", buggy):
            response = self.client.get(
                PREVIEW_URL, {"transition": "cancel", "ids": self.ids(*self.small)}
            )
            assert response.status_code == 200
            assert [i.reason for i in response.context["preview"].blocked] == [
                "failed with RuntimeError: guard bug"
            ]
            token = self.token(transition="cancel", ids=self.ids(*self.small[1:]))
            plan = service.bulk_plan(token, "shop", "order")
            plan.ready.insert(0, (str(first), "pending"))  # as if it was fine at preview time
            report = service.bulk_trigger(plan, user=self.operator, reason="r")
        by_pk = {r["pk"]: r for r in report.detail["results"]}
        assert by_pk[str(first)]["status"] == "refused"
        assert by_pk[str(first)]["message"] == "failed with RuntimeError: guard bug"
        assert Order.objects.get(pk=first).status == "pending"
        assert Order.objects.filter(status="cancelled").count() == 2

    def test_run_htmx_answers_the_report_fragment_and_pushes_its_url(self) -> None:
        token = self.token(transition="cancel", state="pending")
        response = self.client.post(RUN_URL, {"preview": token, "reason": "batch"}, headers=HTMX)
        report = PanelActionLog.objects.get(action="bulk_transition")
        assert response.status_code == 200
        assert response["HX-Push-Url"] == reverse(
            "patterns_admin:bulk-transition-report", args=[report.pk]
        )
        html = response.content.decode()
        assert html.lstrip().startswith('<section id="bulk-report"')
        assert "3 of 3 done, 0 refused, 2 skipped" in html
        assert "pa-result-partial" in html  # two ticked objects did not move
        assert report.detail["state"] == "pending"

    def test_bad_run_input_is_400_and_changes_nothing(self) -> None:
        token = self.token(transition="cancel", ids=self.ids(*self.small))
        before = self.statuses()
        other = reverse("patterns_admin:bulk-transition-run", args=["shop", "nope"])
        cases = [
            (RUN_URL, {"preview": token}, "reason: required"),
            (RUN_URL, {"preview": token, "reason": "   "}, "reason: required"),
            (RUN_URL, {"preview": token, "reason": "x" * 1001}, "reason: at most 1000"),
            (RUN_URL, {"preview": token, "reason": "a\x00b"}, "null characters"),
            (RUN_URL, {"reason": "r"}, "preview: missing"),
            (RUN_URL, {"preview": token[:-2] + "xx", "reason": "r"}, "not a valid preview"),
            (other, {"preview": token, "reason": "r"}, "Unknown model shop.nope"),
        ]
        for url, data, message in cases:
            for headers in ({}, HTMX):
                response = self.client.post(url, data, headers=headers)
                assert response.status_code == 400, data
                assert message in text(response), (data, response.content)
        later = time.time() + service.PREVIEW_MAX_AGE + 60
        with mock.patch("django.core.signing.time.time", return_value=later):
            response = self.client.post(RUN_URL, {"preview": token, "reason": "r"})
        assert response.status_code == 400 and "older than 60 minutes" in text(response)
        assert self.statuses() == before
        assert not PanelActionLog.objects.exclude(action="refused").exists()

    def test_a_preview_of_one_model_does_not_run_on_another(self) -> None:
        from django.core import signing

        data = {
            "model": "shop.other",
            "transition": "cancel",
            "state": "",
            "ready": [],
            "blocked": [],
        }
        token = signing.dumps(data, salt=service._PREVIEW_SALT, compress=True)
        response = self.client.post(RUN_URL, {"preview": token, "reason": "r"})
        assert response.status_code == 400
        assert "preview: made for 'shop.other', not 'shop.order'." in text(response)

    def test_stale_csrf_token_changes_nothing(self) -> None:
        token = self.token(transition="cancel", ids=self.ids(*self.small))
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.operator)
        for headers in ({}, HTMX):
            response = client.post(
                RUN_URL,
                {"preview": token, "reason": "r", "csrfmiddlewaretoken": "stale"},
                headers=headers,
            )
            assert response.status_code == 403
            assert "security token had expired" in response.content.decode()
        assert not Order.objects.filter(status="cancelled").exists()

    # -- permissions ------------------------------------------------------------------------

    def test_run_needs_the_trigger_permission_and_records_the_refusal(self) -> None:
        token = self.token(transition="cancel", ids=self.ids(*self.small))
        client = Client()
        client.force_login(self.reader)
        response = client.post(RUN_URL, {"preview": token, "reason": "r"})
        assert response.status_code == 403
        assert "patterns_admin.trigger_transition" in response.content.decode()
        assert not Order.objects.filter(status="cancelled").exists()
        refusal = PanelActionLog.objects.get()
        assert (refusal.action, refusal.user, refusal.success) == ("refused", self.reader, False)
        assert refusal.detail["permission"] == "patterns_admin.trigger_transition"

    def test_pages_need_the_audit_read_permission(self) -> None:
        plain = make_staff("plain", "trigger_transition", read=False)
        client = Client()
        client.force_login(plain)
        assert client.get(LIST_URL).status_code == 403
        assert (
            client.get(PREVIEW_URL, {"transition": "cancel", "state": "pending"}).status_code == 403
        )
        token = self.token(transition="cancel", state="pending")
        assert client.post(RUN_URL, {"preview": token, "reason": "r"}).status_code == 403
        assert not Order.objects.filter(status="cancelled").exists()
        assert PanelActionLog.objects.filter(action="refused").count() == 3

    def test_the_transition_permission_still_applies(self) -> None:
        """refund needs shop.refund_order: the preview blocks it for the operator, a
        superuser's preview allows it, and a run by someone without it is refused per object."""
        html = self.preview(transition="refund", ids=self.ids(self.paid))
        assert "needs &#x27;shop.refund_order&#x27;" in html or "shop.refund_order" in html
        root = User.objects.create_superuser("root", "root@example.com", "pw")
        root_client = Client()
        root_client.force_login(root)
        token = root_client.get(
            PREVIEW_URL, {"transition": "refund", "ids": self.ids(self.paid)}
        ).context["token"]
        # the operator posts the superuser's preview: the machine checks the operator
        self.client.post(RUN_URL, {"preview": token, "reason": "r"})
        report = PanelActionLog.objects.get(action="bulk_transition")
        assert report.detail["results"][0]["status"] == "refused"
        assert "shop.refund_order" in report.detail["results"][0]["message"]
        assert Order.objects.get(pk=self.paid.pk).status == "paid"

    def test_report_of_another_action_is_404(self) -> None:
        row = PanelActionLog.objects.create(action="undo_command", target="command#1")
        url = reverse("patterns_admin:bulk-transition-report", args=[row.pk])
        assert self.client.get(url).status_code == 404


@pytest.mark.django_db
def test_check_transition_is_a_dry_run_of_one_transition() -> None:
    from toolkit.core.exceptions import InvalidTransition

    machine = machines.get("OrderMachine")
    entity = Order(customer="X", email="x@example.com", total=Decimal("5000"), status="pending")
    check = machine.check_transition(entity, "cancel")
    assert (check.allowed, check.reason) == (False, GUARD)
    assert machine.check_transition(entity, "pay").allowed
    assert entity.status == "pending"
    try:
        machine.check_transition(entity, "fly")
    except InvalidTransition as exc:
        assert "valid transitions" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("InvalidTransition not raised")


@pytest.mark.parametrize(
    ("done", "refused", "skipped", "outcome"),
    [
        (3, 0, 0, "ok"),
        (3, 0, 2, "partial"),
        (2, 1, 0, "partial"),
        (0, 3, 0, "failed"),
        (0, 0, 2, "failed"),
    ],
)
def test_one_outcome_colours_the_report_and_both_messages(
    done: int, refused: int, skipped: int, outcome: str
) -> None:
    """The panel's report page, its redirect message and the admin's message take their
    colour from one rule: green only when every selected object moved."""
    from django.contrib import messages

    detail = {"done": done, "refused": refused, "skipped": skipped}
    assert service.bulk_outcome(detail) == outcome
    assert (
        service.BULK_MESSAGE_LEVELS[outcome]
        == {
            "ok": messages.SUCCESS,
            "partial": messages.WARNING,
            "failed": messages.ERROR,
        }[outcome]
    )
