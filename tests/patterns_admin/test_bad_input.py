"""Issue 11, item 5 (the panel's part outside CQRS): NUL and other input no database can hold
is refused with a 400 or a form error before it reaches the database, never a 500."""

from __future__ import annotations

from decimal import Decimal

from django.test import TestCase
from django.urls import reverse

from demo.shop.models import Order
from patterns_admin.models import PanelActionLog
from tests.patterns_admin.conftest import make_staff
from toolkit.models import PluginState, StateTransitionAudit

NUL = "\x00"


class NulInputTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.operator = make_staff("operator", "trigger_transition", "toggle_plugin", "undo_command")
        cls.order = Order.objects.create(
            customer="Ada", email="ada@example.com", total=Decimal("10.00"), address="1 Road"
        )

    def setUp(self) -> None:
        self.client.force_login(self.operator)

    def test_list_filters_with_nul_are_form_errors(self) -> None:
        cases = [
            (reverse("patterns_admin:audit-list"), {"transition": f"pa{NUL}y"}),
            (reverse("patterns_admin:audit-list"), {"model": NUL, "object_id": NUL}),
            (reverse("patterns_admin:audit-list"), {"user": f"a{NUL}"}),
            (reverse("patterns_admin:audit-list"), {"kind": "commands", "command": NUL}),
            (reverse("patterns_admin:command-list"), {"command": f"x{NUL}"}),
            (reverse("patterns_admin:stream-list"), {"aggregate_id": f"c{NUL}"}),
            (reverse("patterns_admin:event-feed"), {"event_type": f"a{NUL}"}),
            (reverse("patterns_admin:event-feed"), {"correlation_id": NUL}),
        ]
        for url, params in cases:
            response = self.client.get(url, params)
            assert response.status_code == 400, (url, params, response.status_code)
            assert "Null characters are not allowed." in response.content.decode(), params

    def test_numbers_no_column_can_hold_are_form_errors(self) -> None:
        url = reverse("patterns_admin:command-list")
        for value in ("9" * 5000, "9" * 20, str(2**63), "1.5", "²", "1e400", "-1"):
            response = self.client.get(url, {"entry": value})
            assert response.status_code == 400, (value[:10], response.status_code)
        assert self.client.get(url, {"entry": str(2**63 - 1)}).status_code == 200

    def test_a_user_filter_no_user_matches_is_an_empty_list_not_an_error(self) -> None:
        """The audit and command lists count their facets over a user filter that matches
        no user (an empty IN list, which Django compiles to no SQL at all)."""
        for name in ("patterns_admin:audit-list", "patterns_admin:command-list"):
            for value in ("nobody", "-1", "é"):
                response = self.client.get(reverse(name), {"user": value})
                assert response.status_code == 200, (name, value, response.status_code)

    def test_trigger_with_nul_in_the_transition_or_reason_is_refused(self) -> None:
        url = reverse(
            "patterns_admin:object-transition-trigger", args=["shop", "order", self.order.pk]
        )
        for data in ({"transition": f"pa{NUL}y"}, {"transition": "pay", "reason": f"a{NUL}b"}):
            response = self.client.post(url, data)
            assert response.status_code == 400, (data, response.status_code)
            assert "null character" in response.content.decode().lower(), data
        self.order.refresh_from_db()
        assert self.order.status == "pending"
        assert not StateTransitionAudit.objects.exists()

    def test_trigger_with_a_reason_over_the_limit_is_refused_not_cut(self) -> None:
        """The single trigger refuses a reason the bulk run refuses, instead of storing the
        first 1,000 characters; one at the limit (after stripping) is stored whole."""
        from patterns_admin.views.transitions import MAX_REASON

        url = reverse(
            "patterns_admin:object-transition-trigger", args=["shop", "order", self.order.pk]
        )
        too_long = "x" * (MAX_REASON + 1)
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = self.client.post(url, {"transition": "pay", "reason": too_long}, **headers)
            assert response.status_code == 400, response.status_code
            assert f"reason: at most {MAX_REASON} characters (got {MAX_REASON + 1})" in (
                response.content.decode()
            )
        self.order.refresh_from_db()
        assert self.order.status == "pending"
        assert not StateTransitionAudit.objects.exists()
        at_limit = "y" * MAX_REASON
        response = self.client.post(url, {"transition": "pay", "reason": f"  {at_limit}\n"})
        assert response.status_code == 302
        assert StateTransitionAudit.objects.get().reason == at_limit

    def test_nul_in_an_object_path_is_a_404(self) -> None:
        url = reverse("patterns_admin:object-transitions", args=["shop", "order", f"1{NUL}"])
        assert self.client.get(url).status_code == 404

    def test_nul_in_a_plugin_name_is_refused(self) -> None:
        url = reverse("patterns_admin:plugin-toggle", args=[f"loyalty{NUL}"])
        response = self.client.post(url, {"action": "disable"})
        assert response.status_code in (400, 404), response.status_code
        assert not PluginState.objects.exists()
        assert not PanelActionLog.objects.filter(success=True).exists()

    def test_nul_in_a_stream_id_is_a_404(self) -> None:
        url = reverse("patterns_admin:stream-detail", args=[f"cart{NUL}"])
        assert self.client.get(url).status_code == 404
