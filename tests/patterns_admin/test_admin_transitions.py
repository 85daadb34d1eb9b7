"""TransitionAdminMixin: the transitions fragment on the admin change page, bulk actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Permission, User
from django.test import TestCase
from django.urls import reverse

from demo.shop.models import Order
from patterns_admin.models import PanelActionLog
from toolkit.models import StateTransitionAudit

CHANGELIST = reverse("admin:shop_order_changelist")


def staff(username: str, *perms: str) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)


class AdminTransitionsTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.operator = staff(
            "operator", "shop.view_order", "shop.change_order", "patterns_admin.trigger_transition"
        )
        cls.clerk = staff("clerk", "shop.view_order", "shop.change_order")

    def setUp(self) -> None:
        self.ready = Order.objects.create(
            customer="Ada", email="ada@example.com", total=Decimal("10.00"), address="1 Road"
        )
        self.shipped = Order.objects.create(
            customer="Bob", email="bob@example.com", total=Decimal("20.00"), status="shipped"
        )

    def test_change_page_shows_the_transitions_fragment_outside_the_form(self) -> None:
        self.client.force_login(self.operator)
        url = reverse("admin:shop_order_change", args=[self.ready.pk])
        html = self.client.get(url).content.decode()
        assert '<section id="transitions"' in html
        assert html.index("</form>") < html.index('<section id="transitions"')
        assert 'data-transition="pay"' in html
        assert f'name="next" value="{url}"' in html
        assert "htmx" in html

    def test_htmx_trigger_from_the_change_page_updates_its_state_field(self) -> None:
        self.client.force_login(self.operator)
        change_url = reverse("admin:shop_order_change", args=[self.ready.pk])
        trigger = reverse(
            "patterns_admin:object-transition-trigger", args=["shop", "order", self.ready.pk]
        )
        html = self.client.post(
            trigger, {"transition": "pay", "next": change_url}, headers={"HX-Request": "true"}
        ).content.decode()
        assert '<div hx-swap-oob="innerHTML:.field-status .readonly">paid</div>' in html
        assert f'name="next" value="{change_url}"' in html  # kept for the next trigger
        # From the panel's own page there is no admin form to update.
        self.ready.refresh_from_db()
        html = self.client.post(
            trigger, {"transition": "ship"}, headers={"HX-Request": "true"}
        ).content.decode()
        assert "Done: ship: paid → shipped" in html
        assert "hx-swap-oob" not in html

    def run_action(self, selected: list[int], reason: str = "restock") -> Any:
        """The action's two steps: the confirmation (preview), then the confirmed post."""
        data = {"action": "trigger_pay", "_selected_action": selected}
        confirm = self.client.post(CHANGELIST, data)
        assert confirm.status_code == 200
        token = confirm.context["token"]
        return self.client.post(
            CHANGELIST, {**data, "post": "yes", "preview": token, "reason": reason}, follow=True
        )

    def test_bulk_action_asks_first_with_a_preview_and_a_reason(self) -> None:
        self.client.force_login(self.operator)
        response = self.client.post(
            CHANGELIST,
            {"action": "trigger_pay", "_selected_action": [self.ready.pk, self.shipped.pk]},
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-count="ready">Will succeed: 1<' in html
        assert 'data-count="blocked">Blocked: 1<' in html
        assert "Cannot &#x27;pay&#x27; from state &#x27;shipped&#x27;" in html
        assert '<input type="hidden" name="post" value="yes">' in html
        assert 'name="reason"' in html
        self.ready.refresh_from_db()
        assert self.ready.status == "pending"  # nothing changed yet
        assert not PanelActionLog.objects.exists()

    def test_bulk_action_reports_per_object(self) -> None:
        self.client.force_login(self.operator)
        response = self.run_action([self.ready.pk, self.shipped.pk])
        messages = [str(m) for m in response.context["messages"]]
        report = PanelActionLog.objects.get(action="bulk_transition")
        url = reverse("patterns_admin:bulk-transition-report", args=[report.pk])
        assert messages == [
            f"{self.ready}: pay: pending → paid",
            f"{self.shipped}: not done: blocked at preview: Cannot 'pay' from state 'shipped'; "
            "transitions allowed from this state: 'deliver'",
            "pay: 1 of 2 done.",
            f'<a href="{url}">Per-object report</a> of this run, with its reason.',
        ]
        self.ready.refresh_from_db()
        self.shipped.refresh_from_db()
        assert (self.ready.status, self.shipped.status) == ("paid", "shipped")
        audit = StateTransitionAudit.objects.get()
        assert (audit.reason, audit.user) == ("restock", self.operator)
        assert PanelActionLog.objects.filter(action="trigger_transition").count() == 1

    def test_bulk_action_without_a_reason_asks_again(self) -> None:
        self.client.force_login(self.operator)
        data = {"action": "trigger_pay", "_selected_action": [self.ready.pk]}
        token = self.client.post(CHANGELIST, data).context["token"]
        for extra, message in [
            ({"preview": token, "reason": " "}, "reason: required"),
            ({"preview": "forged", "reason": "r"}, "preview: not a valid preview"),
        ]:
            response = self.client.post(CHANGELIST, {**data, "post": "yes", **extra})
            assert response.status_code == 400
            assert message in response.content.decode()
        self.ready.refresh_from_db()
        assert self.ready.status == "pending"

    def test_the_summary_is_green_only_when_every_object_moved(self) -> None:
        from django.contrib import messages as levels

        self.client.force_login(self.operator)
        cases = [
            ([self.shipped.pk], "pay: 0 of 1 done.", levels.ERROR),
            ([self.ready.pk, self.shipped.pk], "pay: 1 of 2 done.", levels.WARNING),
        ]
        for selected, text, level in cases:
            response = self.run_action(selected) if selected != [self.shipped.pk] else None
            if response is None:  # nothing can move: the confirmation says so, no run
                html = self.client.post(
                    CHANGELIST, {"action": "trigger_pay", "_selected_action": selected}
                ).content.decode()
                assert "Nothing to trigger" in html
                continue
            summary = [m for m in response.context["messages"] if str(m) == text]
            assert [m.level for m in summary] == [level], text
        self.ready.status = "pending"
        self.ready.save()
        response = self.run_action([self.ready.pk])
        summary = [m for m in response.context["messages"] if str(m) == "pay: 1 of 1 done."]
        assert [m.level for m in summary] == [levels.SUCCESS]

    def test_bulk_actions_need_the_panel_permission(self) -> None:
        self.client.force_login(self.clerk)
        response = self.client.get(CHANGELIST)
        form = response.context["action_form"]
        actions = [name for name, _ in form.fields["action"].choices] if form else []
        assert "trigger_pay" not in actions
        self.client.post(CHANGELIST, {"action": "trigger_pay", "_selected_action": [self.ready.pk]})
        self.ready.refresh_from_db()
        assert self.ready.status == "pending"

    def test_clerk_sees_the_panel_without_buttons(self) -> None:
        self.client.force_login(self.clerk)
        url = reverse("admin:shop_order_change", args=[self.ready.pk])
        html = self.client.get(url).content.decode()
        assert "that needs the permission <code>patterns_admin.trigger_transition</code>" in html
