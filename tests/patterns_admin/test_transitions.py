"""The object-transitions page and its trigger action (panel side)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import Permission, User
from django.test import Client, TestCase
from django.urls import reverse

from demo.shop.models import Order
from patterns_admin.models import PanelActionLog
from tests.patterns_admin.conftest import make_staff
from tests.patterns_admin.queries import view_queries
from toolkit.models import StateTransitionAudit


def page_url(order: Order) -> str:
    return reverse("patterns_admin:object-transitions", args=["shop", "order", order.pk])


def trigger_url(order: Order) -> str:
    return reverse("patterns_admin:object-transition-trigger", args=["shop", "order", order.pk])


def grant(user: User, *perms: str) -> User:
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)


class ObjectTransitionsPageTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.viewer = make_staff("viewer")
        cls.operator = make_staff("operator", "trigger_transition")
        cls.order = Order.objects.create(
            customer="Ada", email="ada@example.com", total=Decimal("120.00"), address=""
        )

    def setUp(self) -> None:
        self.client.force_login(self.operator)

    def test_anonymous_is_sent_to_login(self) -> None:
        response = Client().get(page_url(self.order))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    def test_full_page_lists_allowed_and_blocked_transitions(self) -> None:
        response = self.client.get(page_url(self.order))
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
        html = response.content.decode()
        assert "<html" in html
        assert 'data-state="pending"' in html
        assert 'data-transition="pay"' in html
        assert 'data-transition="cancel"' in html
        # ship needs the paid state: listed under "From other states", not as a button
        assert 'data-transition="ship"' not in html

    def test_htmx_request_gets_only_the_fragment(self) -> None:
        response = self.client.get(page_url(self.order), headers={"HX-Request": "true"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert html.lstrip().startswith('<section id="transitions"')
        assert 'id="transitions"' in html

    def test_blocked_transition_shows_the_guard_explanation(self) -> None:
        self.order.status = "paid"
        self.order.save()
        response = self.client.get(page_url(self.order))
        html = response.content.decode()
        assert "cannot ship an order without an address" in html
        assert "may not trigger &#x27;refund&#x27; (needs &#x27;shop.refund_order&#x27;)" in html

    def test_viewer_without_permission_sees_disabled_buttons(self) -> None:
        self.client.force_login(self.viewer)
        html = self.client.get(page_url(self.order)).content.decode()
        assert "that needs the permission <code>patterns_admin.trigger_transition</code>" in html
        assert 'data-transition="pay"' not in html

    def test_unknown_model_pk_or_model_without_machine_is_404(self) -> None:
        for args in (
            ["shop", "nosuchmodel", "1"],
            ["nosuchapp", "order", "1"],
            ["shop", "order", "999999"],
            ["shop", "order", "not-a-number"],
            ["auth", "user", str(self.viewer.pk)],
        ):
            url = reverse("patterns_admin:object-transitions", args=args)
            assert self.client.get(url).status_code == 404, args

    def test_query_count_does_not_grow_with_history(self) -> None:
        # session, user, permissions (user + groups), the order, the history with its users,
        # and the plugin states the demo's guards ask for (read once for the request)
        queries = view_queries(self.client, page_url(self.order))
        assert len(queries) == 7
        assert len([sql for sql in queries if "toolkit_pluginstate" in sql]) == 1
        for _ in range(5):
            StateTransitionAudit.objects.create(
                model="shop.order",
                object_id=str(self.order.pk),
                machine="OrderMachine",
                transition="pay",
                from_state="pending",
                to_state="paid",
                user=self.operator,
            )
        assert len(view_queries(self.client, page_url(self.order))) == 7


class TriggerTransitionTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.viewer = make_staff("viewer")
        cls.operator = make_staff("operator", "trigger_transition")

    def setUp(self) -> None:
        self.order = Order.objects.create(
            customer="Ada", email="ada@example.com", total=Decimal("120.00"), address="1 Road"
        )
        self.client.force_login(self.operator)

    def test_trigger_changes_state_writes_audit_and_action_log(self) -> None:
        response = self.client.post(
            trigger_url(self.order), {"transition": "pay", "reason": "paid by phone"}
        )
        assert response.status_code == 302
        assert response["Location"] == page_url(self.order)
        self.order.refresh_from_db()
        assert self.order.status == "paid"
        audit = StateTransitionAudit.objects.get(object_id=str(self.order.pk))
        assert (audit.transition, audit.reason, audit.user) == (
            "pay",
            "paid by phone",
            self.operator,
        )
        log = PanelActionLog.objects.get()
        assert (log.action, log.target, log.success) == (
            "trigger_transition",
            f"shop.order#{self.order.pk}",
            True,
        )

    def test_boosted_trigger_redirects_like_a_plain_post(self) -> None:
        headers = {"HX-Request": "true", "HX-Boosted": "true"}
        response = self.client.post(trigger_url(self.order), {"transition": "pay"}, headers=headers)
        assert response.status_code == 302
        assert response["Location"] == page_url(self.order)

    def test_htmx_trigger_returns_fragment_with_result_and_event(self) -> None:
        response = self.client.post(
            trigger_url(self.order), {"transition": "pay"}, headers={"HX-Request": "true"}
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert "Done: pay: pending → paid" in html
        assert response["HX-Trigger"] == '{"auditChanged": {}}'

    def test_reason_and_object_are_escaped_in_result_and_history(self) -> None:
        self.order.customer = "<script>alert(1)</script>"
        self.order.save()
        response = self.client.post(
            trigger_url(self.order),
            {"transition": "pay", "reason": "<script>alert(2)</script>"},
            headers={"HX-Request": "true"},
        )
        html = response.content.decode()
        assert "<script>" not in html
        assert "<td>&lt;script&gt;alert(2)&lt;/script&gt;</td>" in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert StateTransitionAudit.objects.get().reason == "<script>alert(2)</script>"

    def test_guard_failure_is_reported_inline_and_changes_nothing(self) -> None:
        self.order.status = "paid"
        self.order.address = ""
        self.order.save()
        response = self.client.post(
            trigger_url(self.order), {"transition": "ship"}, headers={"HX-Request": "true"}
        )
        html = response.content.decode()
        assert (
            "Not done: Guard &#x27;has_address&#x27; blocked transition &#x27;ship&#x27;: "
            "cannot ship an order without an address" in html
        )
        self.order.refresh_from_db()
        assert self.order.status == "paid"
        assert not StateTransitionAudit.objects.exists()
        assert PanelActionLog.objects.get().success is False

    def test_transition_permission_is_checked_on_top_of_the_panel_permission(self) -> None:
        self.order.status = "paid"
        self.order.save()
        self.client.post(trigger_url(self.order), {"transition": "refund"})
        self.order.refresh_from_db()
        assert self.order.status == "paid"
        grant(self.operator, "shop.refund_order")
        self.client.force_login(User.objects.get(pk=self.operator.pk))
        self.client.post(trigger_url(self.order), {"transition": "refund"})
        self.order.refresh_from_db()
        assert self.order.status == "refunded"

    def test_unknown_transition_names_the_choices(self) -> None:
        response = self.client.post(
            trigger_url(self.order), {"transition": "teleport"}, headers={"HX-Request": "true"}
        )
        assert (
            "Unknown transition &#x27;teleport&#x27; for OrderMachine; valid transitions: "
            "&#x27;cancel&#x27;, &#x27;deliver&#x27;, &#x27;pay&#x27;, &#x27;refund&#x27;, "
            "&#x27;ship&#x27;" in response.content.decode()
        )

    def test_staff_without_permission_gets_403_and_nothing_changes(self) -> None:
        self.client.force_login(self.viewer)
        response = self.client.post(trigger_url(self.order), {"transition": "pay"})
        assert response.status_code == 403
        self.order.refresh_from_db()
        assert self.order.status == "pending"
        assert not StateTransitionAudit.objects.exists()

    def test_anonymous_post_changes_nothing(self) -> None:
        response = Client().post(trigger_url(self.order), {"transition": "pay"})
        assert response.status_code == 302
        self.order.refresh_from_db()
        assert self.order.status == "pending"

    def test_post_without_csrf_token_is_refused(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.operator)
        response = client.post(trigger_url(self.order), {"transition": "pay"})
        assert response.status_code == 403
        self.order.refresh_from_db()
        assert self.order.status == "pending"

    def test_get_is_not_allowed(self) -> None:
        assert self.client.get(trigger_url(self.order)).status_code == 405

    def test_next_outside_the_site_is_ignored(self) -> None:
        response = self.client.post(
            trigger_url(self.order), {"transition": "pay", "next": "https://evil.example/"}
        )
        assert response["Location"] == page_url(self.order)

    def test_next_on_the_site_is_followed(self) -> None:
        admin_url = reverse("admin:index")
        response = self.client.post(
            trigger_url(self.order), {"transition": "pay", "next": admin_url}
        )
        assert response["Location"] == admin_url


class HistoryLinkTests(TestCase):
    def test_history_links_to_the_filtered_audit_log(self) -> None:
        order = Order.objects.create(customer="Ada", email="a@example.com", total=Decimal("1.00"))
        self.client.force_login(make_staff("viewer"))
        html = self.client.get(page_url(order)).content.decode()
        audit = reverse("patterns_admin:audit-list")
        assert f'href="{audit}?model=shop.order&amp;object_id={order.pk}"' in html


class NoJavaScriptFlowTests(TestCase):
    def test_post_redirect_get_shows_the_outcome_as_a_message(self) -> None:
        order = Order.objects.create(
            customer="Ada", email="a@example.com", total=Decimal("5.00"), address=""
        )
        self.client.force_login(make_staff("operator", "trigger_transition"))
        self.client.post(trigger_url(order), {"transition": "pay"})
        response = self.client.post(trigger_url(order), {"transition": "ship"}, follow=True)
        html = response.content.decode()
        assert response.redirect_chain == [(page_url(order), 302)]
        assert (
            "Guard &#x27;has_address&#x27; blocked transition &#x27;ship&#x27;: "
            "cannot ship an order without an address" in html
        )
        assert 'class="error"' in html
