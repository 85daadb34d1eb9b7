"""Issue 4, item 9 across the panel: staff only, one permission per kind of action, checked on
the server for every request, POST with CSRF, 403 changes nothing, every action audited with
the acting user; bad query parameters never give a 500."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from unittest import mock

from django.contrib.auth.models import User
from django.test import Client, TestCase
from django.urls import reverse

from demo.shop.commands import CreateOrderCommand
from demo.shop.models import DailyRevenue, Order
from patterns_admin.models import PanelActionLog
from tests.patterns_admin.conftest import make_staff
from toolkit.models import CommandAuditLog, PluginState, StateTransitionAudit

ACTIONS = ("trigger_transition", "undo_command", "toggle_plugin", "replay_events")


def panel_pages(order_pk: int) -> list[str]:
    """The URL of every panel page (the stream ``cart-1`` and the order ``order_pk`` exist)."""
    return [
        reverse("patterns_admin:index"),
        reverse("patterns_admin:audit-list"),
        reverse("patterns_admin:command-list"),
        reverse("patterns_admin:stream-list"),
        reverse("patterns_admin:stream-detail", args=["cart-1"]),
        reverse("patterns_admin:event-feed"),
        reverse("patterns_admin:correlation", args=["req-1"]),
        reverse("patterns_admin:plugin-list"),
        reverse("patterns_admin:diagram-list"),
        reverse("patterns_admin:diagram-detail", args=["OrderMachine"]),
        reverse("patterns_admin:projection-list"),
        reverse("patterns_admin:object-transitions", args=["shop", "order", order_pk]),
        reverse("patterns_admin:object-list", args=["shop", "order"]) + "?state=pending",
        reverse("patterns_admin:bulk-transition-preview", args=["shop", "order"])
        + "?transition=cancel&state=pending",
    ]


@dataclass
class _Meta:
    name: str
    version: str
    status: str
    error: str = ""


class _Registry:
    """Persists like the real registry, without touching the process's plugin flags."""

    def list_plugins(self) -> list[_Meta]:
        enabled = dict(PluginState.objects.values_list("name", "enabled"))
        status = "active" if enabled.get("loyalty_points", True) else "disabled"
        return [_Meta("loyalty_points", "1.2.0", status)]

    def disable(self, name: str, *, user: Any = None) -> None:
        PluginState.objects.update_or_create(
            name=name, defaults={"enabled": False, "updated_by": user}
        )


def order_and_command() -> tuple[Order, CommandAuditLog]:
    """An order to trigger transitions on, and the audit row of an undoable command."""
    order = Order.objects.create(
        customer="Ada", email="ada@example.com", total=Decimal("10.00"), address="1 Road"
    )
    CreateOrderCommand("Bob", "bob@example.com", "20.00").execute()
    return order, CommandAuditLog.objects.get()


class SecurityMatrixTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.order, cls.entry = order_and_command()
        cls.users = {action: make_staff(action, action) for action in ACTIONS}
        cls.users["none"] = make_staff("viewer")

    def setUp(self) -> None:
        patcher = mock.patch(
            "patterns_admin.views.plugins.plugin_registry", return_value=_Registry()
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def _requests(self) -> dict[str, tuple[str, dict[str, str]]]:
        return {
            "trigger_transition": (
                reverse(
                    "patterns_admin:object-transition-trigger",
                    args=["shop", "order", self.order.pk],
                ),
                {"transition": "cancel", "reason": "matrix"},
            ),
            "undo_command": (
                reverse("patterns_admin:command-undo", args=[self.entry.pk]),
                {},
            ),
            "toggle_plugin": (
                reverse("patterns_admin:plugin-toggle", args=["loyalty_points"]),
                {"action": "disable"},
            ),
            "replay_events": (
                reverse("patterns_admin:projection-rebuild", args=["revenue_per_day"]),
                {},
            ),
        }

    def _world(self) -> tuple[Any, ...]:
        return (
            Order.objects.get(pk=self.order.pk).status,
            StateTransitionAudit.objects.count(),
            CommandAuditLog.objects.count(),
            list(PluginState.objects.values_list("name", "enabled")),
            DailyRevenue.objects.count(),
            PanelActionLog.objects.exclude(action="refused").count(),
        )

    def test_each_permission_allows_its_own_kind_of_action_only(self) -> None:
        for holder in [*ACTIONS, "none"]:
            client = Client()
            client.force_login(self.users[holder])
            for action, (url, data) in self._requests().items():
                if action == holder:
                    continue
                before = self._world()
                response = client.post(url, data)
                assert response.status_code == 403, (holder, action)
                assert f"patterns_admin.{action}" in response.content.decode()
                assert self._world() == before, (holder, action)

    def test_every_allowed_action_is_recorded_with_the_acting_user(self) -> None:
        for action, (url, data) in self._requests().items():
            client = Client()
            user = self.users[action]
            client.force_login(user)
            response = client.post(url, data)
            assert response.status_code == 302, (action, response.status_code)
            row = PanelActionLog.objects.filter(user=user).get()
            assert row.success, (action, row.detail)
        assert Order.objects.get(pk=self.order.pk).status == "cancelled"
        assert CommandAuditLog.objects.filter(undo_of=self.entry).count() == 1
        assert PluginState.objects.get(name="loyalty_points").enabled is False

    def test_actions_refuse_get_and_missing_csrf_and_non_staff(self) -> None:
        non_staff = User.objects.create_user("customer", password="pw")
        for action, (url, data) in self._requests().items():
            before = self._world()
            csrf_client = Client(enforce_csrf_checks=True)
            csrf_client.force_login(self.users[action])
            assert csrf_client.post(url, data).status_code == 403, action
            anonymous = Client().post(url, data)
            assert anonymous.status_code in (302, 403), action
            customer = Client()
            customer.force_login(non_staff)
            assert customer.post(url, data).status_code in (302, 403), action
            if action != "replay_events":  # its GET is the confirmation, which changes nothing
                allowed = Client()
                allowed.force_login(self.users[action])
                assert allowed.get(url).status_code == 405, action
            assert self._world() == before, action


class BadParametersTests(TestCase):
    """Junk in the query string of every page: an error or an empty result, never a 500."""

    JUNK = {
        "page": "-1",
        "per_page": "abc",
        "sort": "password",
        "before": "%%%",
        "after": "zz",
        "at": "x",
        "tail_after": "-5",
        "created_after": "yesterday",
        "success": "maybe",
        "kind": "<script>",
        "object": "<script>alert(1)</script>",
        "format": "pdf",
        "entry": "0",
        "aggregate_type": "Nope",
        "since": "yesterday",
        "until": "2026-99-99T25:00",
        "event_type": "<script>",
        "correlation_id": "<script>" * 10,
    }

    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = User.objects.create_superuser("root", "root@example.com", "pw")
        cls.order = Order.objects.create(
            customer="Ada", email="ada@example.com", total=Decimal("10.00")
        )

    def test_no_page_answers_500_or_echoes_markup(self) -> None:
        from toolkit.eventsourcing.projections import projection_statuses  # noqa: F401
        from toolkit.patterns.event_store import EventStore

        EventStore().append("cart-1", "ShoppingCart", "Opened", {"customer": "x"})
        urls = panel_pages(self.order.pk)
        self.client.force_login(self.staff)
        for url in urls:
            for name, value in self.JUNK.items():
                for headers in ({}, {"HX-Request": "true"}):
                    response = self.client.get(url, {name: value}, headers=headers)
                    assert response.status_code in (200, 400), (url, name, response.status_code)
                    assert b"<script>" not in response.content, (url, name)

    def test_unknown_objects_and_names_are_404_not_500(self) -> None:
        self.client.force_login(self.staff)
        urls = [
            reverse("patterns_admin:object-transitions", args=["shop", "order", "abc"]),
            reverse("patterns_admin:object-transitions", args=["shop", "order", "999999"]),
            reverse("patterns_admin:object-transitions", args=["nope", "thing", "1"]),
            reverse("patterns_admin:object-transitions", args=["auth", "user", "1"]),
            reverse("patterns_admin:diagram-detail", args=["NoSuchMachine"]),
            reverse("patterns_admin:stream-detail", args=["no-such-stream"]),
            reverse("patterns_admin:projection-rebuild", args=["no_such_projection"]),
        ]
        for url in urls:
            assert self.client.get(url).status_code == 404, url


class _HtmxLinks(HTMLParser):
    """Collects links and forms that htmx drives, to check they work without JavaScript."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.links = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        hx = found.get("hx-get") or found.get("hx-post")
        if tag == "a" and hx is not None:
            self.links += 1
            if found.get("href") != hx:
                self.problems.append(f"<a hx-get={hx!r}> has href={found.get('href')!r}")
        if tag == "form" and (found.get("hx-get") is not None or found.get("hx-post")):
            if "method" not in found:
                self.problems.append(f"<form {hx!r}> has no method")
            if found.get("hx-post") and found.get("method") != "post":
                self.problems.append(f"<form hx-post={hx!r}> posts with {found.get('method')!r}")


class WithoutJavaScriptTests(TestCase):
    """Every htmx link keeps the same href and every htmx form a method (STYLE §7)."""

    @classmethod
    def setUpTestData(cls) -> None:
        from toolkit.patterns.event_store import EventStore

        cls.staff = User.objects.create_superuser("root", "root@example.com", "pw")
        cls.order = Order.objects.create(
            customer="Ada", email="ada@example.com", total=Decimal("10.00"), address="1 Road"
        )
        CreateOrderCommand("Bob", "bob@example.com", "20.00").execute()
        for i in range(60):
            EventStore().append(f"cart-{i}", "ShoppingCart", "Opened", {"customer": "x"})

    def test_pages_link_the_panel_stylesheet_and_inline_no_styles(self) -> None:
        self.client.force_login(self.staff)
        for url in panel_pages(self.order.pk):
            html = self.client.get(url).content.decode()
            assert "/static/patterns_admin/panel.css" in html, url
            assert "<style" not in html, url

    def test_htmx_links_and_forms_work_without_javascript(self) -> None:
        self.client.force_login(self.staff)
        urls = [
            *panel_pages(self.order.pk),
            reverse("patterns_admin:audit-list") + "?kind=commands",
        ]
        links = 0
        for url in urls:
            response = self.client.get(url)
            assert response.status_code == 200, url
            parser = _HtmxLinks()
            parser.feed(response.content.decode())
            assert parser.problems == [], (url, parser.problems)
            links += parser.links
        assert links > 20  # the check saw the pages' htmx links
