"""TransitionAdminMixin: the transitions fragment on the admin change page, bulk actions."""

from __future__ import annotations

from decimal import Decimal

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

    def test_bulk_action_reports_per_object(self) -> None:
        self.client.force_login(self.operator)
        response = self.client.post(
            CHANGELIST,
            {"action": "trigger_pay", "_selected_action": [self.ready.pk, self.shipped.pk]},
            follow=True,
        )
        messages = [str(m) for m in response.context["messages"]]
        assert messages == [
            f"{self.ready}: pay: pending → paid",
            f"{self.shipped}: not done: Cannot 'pay' from state 'shipped'; "
            "transitions allowed from this state: 'deliver'",
            "pay: 1 of 2 done.",
        ]
        self.ready.refresh_from_db()
        self.shipped.refresh_from_db()
        assert (self.ready.status, self.shipped.status) == ("paid", "shipped")
        assert StateTransitionAudit.objects.count() == 1
        assert PanelActionLog.objects.filter(action="trigger_transition").count() == 2

    def test_the_summary_is_green_only_when_every_object_moved(self) -> None:
        from django.contrib import messages as levels

        self.client.force_login(self.operator)
        cases = [
            ([self.shipped.pk], "pay: 0 of 1 done.", levels.ERROR),
            ([self.ready.pk, self.shipped.pk], "pay: 1 of 2 done.", levels.WARNING),
        ]
        for selected, text, level in cases:
            response = self.client.post(
                CHANGELIST, {"action": "trigger_pay", "_selected_action": selected}, follow=True
            )
            summary = [m for m in response.context["messages"] if str(m) == text]
            assert [m.level for m in summary] == [level], text
        self.ready.status = "pending"
        self.ready.save()
        response = self.client.post(
            CHANGELIST, {"action": "trigger_pay", "_selected_action": [self.ready.pk]}, follow=True
        )
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
