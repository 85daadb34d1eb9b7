"""Issue 14, item 4: command detail, object history and user activity pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.fields.json import KeyTransform
from django.test import Client, TestCase
from django.urls import reverse

from demo.shop.commands import ApplyDiscountCommand, CreateOrderCommand
from demo.shop.machines import OrderMachine
from patterns_admin.history import _touched, object_history
from patterns_admin.masking import MASK
from tests.patterns_admin.conftest import make_staff
from tests.patterns_admin.queries import view_queries
from tests.services import require_postgres_db
from toolkit.models import CommandAuditLog

HTMX = {"HX-Request": "true"}


class InvestigationPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.reader = make_staff("reader")
        cls.auditor = make_staff("auditor", "view_audit", read=False)
        cls.order = CreateOrderCommand("Ada", "ada@example.com", "100.00").execute(user=cls.reader)
        cls.create_row = CommandAuditLog.objects.get()
        ApplyDiscountCommand(cls.order.pk, 10).execute(user=cls.reader)
        cls.discount_row = CommandAuditLog.objects.latest("id")
        OrderMachine().trigger(cls.order, "pay", user=cls.reader, reason="card ok")
        CommandAuditLog.objects.create(
            command="demo.shop.commands.Refund",
            success=False,
            error="RuntimeError: " + "x" * 500 + " the end",
            params={"order_id": cls.order.pk},
        )

    def setUp(self) -> None:
        self.client.force_login(self.reader)

    def test_command_detail_shows_everything_in_full_and_masks_sensitive_fields(self) -> None:
        failed = CommandAuditLog.objects.get(success=False)
        html = self.client.get(reverse("patterns_admin:command-detail", args=[failed.pk])).content
        assert b"x" * 500 + b" the end" in html  # not truncated
        html = self.client.get(
            reverse("patterns_admin:command-detail", args=[self.create_row.pk])
        ).content.decode()
        assert "ada@example.com" not in html and MASK in html
        history = reverse("patterns_admin:object-history", args=["shop", "order", self.order.pk])
        assert f'<a href="{history}">shop.order#{self.order.pk}</a>' in html
        assert "/panel/users/reader/activity/" in html

    def test_the_command_list_links_each_row_to_its_detail(self) -> None:
        html = self.client.get(reverse("patterns_admin:command-list")).content.decode()
        url = reverse("patterns_admin:command-detail", args=[self.discount_row.pk])
        assert f'<a href="{url}">#{self.discount_row.pk}</a>' in html

    def test_object_history_lists_transitions_and_commands_in_time_order(self) -> None:
        url = reverse("patterns_admin:object-history", args=["shop", "order", self.order.pk])
        html = self.client.get(url).content.decode()
        kinds = [part.split('"')[0] for part in html.split('data-kind="')[1:]]
        assert kinds == ["execute", "transition", "execute", "execute"]
        assert "pay (pending → paid): card ok" in html
        assert f"execute ApplyDiscountCommand #{self.discount_row.pk}" in html
        assert f"execute CreateOrderCommand #{self.create_row.pk}" in html  # by its result
        assert "RuntimeError" in html  # failed Refund, by its order_id parameter

    def test_object_history_matches_the_id_as_text_or_number_and_nothing_else(self) -> None:
        pk = self.order.pk
        rows = {
            name: CommandAuditLog.objects.create(
                command=f"demo.x.{name}", params=params, result=result
            )
            for name, params, result in (
                ("AsText", {"order_id": str(pk)}, None),
                ("OtherOrder", {"order_id": pk + 1}, None),
                ("InAList", {"order_id": [pk]}, None),
                ("OtherKey", {"customer_id": pk}, None),
                ("OtherModel", {}, {"__model__": "shop.customer", "pk": str(pk)}),
                ("Nested", {"x": {"order_id": pk}}, None),
            )
        }
        found = {
            line.text.split()[1]
            for line in object_history("shop.order", str(pk), transitions=False, commands=True)
        }
        assert "AsText" in found and "CreateOrderCommand" in found and "Refund" in found
        assert not found & (rows.keys() - {"AsText"})

    @pytest.mark.postgres
    def test_object_history_finds_commands_through_the_gin_indexes(self) -> None:
        require_postgres_db()  # the GIN indexes exist on PostgreSQL only
        executed = CommandAuditLog.objects.alias(
            result_model=KeyTransform("__model__", "result"),
            result_pk=KeyTransform("pk", "result"),
        ).filter(_touched("shop.order", "order", "12", "default"))
        with connection.cursor() as cursor:
            # On a tiny table any plan is cheap: leave the planner bitmap scans only (the way a
            # GIN index is read), so it must say which indexes answer the containment tests.
            # Without the ordering, a full scan of the created_at index is no alternative.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            plan = executed.order_by().explain()
        assert "tk_cal_params_gin" in plan and "tk_cal_result_gin" in plan, plan

    def test_object_history_leaves_out_commands_without_view_commands(self) -> None:
        client = Client()
        client.force_login(self.auditor)
        url = reverse("patterns_admin:object-history", args=["shop", "order", self.order.pk])
        html = client.get(url).content.decode()
        assert 'data-kind="transition"' in html and 'data-kind="execute"' not in html

    def test_the_object_page_links_to_its_history(self) -> None:
        url = reverse("patterns_admin:object-transitions", args=["shop", "order", self.order.pk])
        history = reverse("patterns_admin:object-history", args=["shop", "order", self.order.pk])
        assert f'<a href="{history}">everything that touched it</a>' in (
            self.client.get(url).content.decode()
        )

    def test_user_activity(self) -> None:
        url = reverse("patterns_admin:user-activity", args=["reader"])
        html = self.client.get(url).content.decode()
        assert f"shop.order #{self.order.pk}: pay (pending → paid)" in html
        assert html.count('data-kind="execute"') == 2

    def test_pages_cost_a_fixed_number_of_queries(self) -> None:
        for url in (
            reverse("patterns_admin:object-history", args=["shop", "order", self.order.pk]),
            reverse("patterns_admin:user-activity", args=["reader"]),
            reverse("patterns_admin:command-detail", args=[self.create_row.pk]),
        ):
            assert len(view_queries(self.client, url)) <= 10, url

    def test_unknown_or_impossible_subjects_are_404(self) -> None:
        for url in (
            reverse("patterns_admin:object-history", args=["shop", "nope", "1"]),
            reverse("patterns_admin:object-history", args=["shop", "order", "1\x00"]),
            reverse("patterns_admin:user-activity", args=["nobody"]),
            reverse("patterns_admin:user-activity", args=["a\x00"]),
            reverse("patterns_admin:command-detail", args=[999999]),
        ):
            assert self.client.get(url).status_code == 404, url

    def test_read_permissions(self) -> None:
        client = Client()
        client.force_login(make_staff("nobody-reads", read=False))
        for url in (
            reverse("patterns_admin:object-history", args=["shop", "order", self.order.pk]),
            reverse("patterns_admin:user-activity", args=["reader"]),
            reverse("patterns_admin:command-detail", args=[self.create_row.pk]),
        ):
            assert client.get(url).status_code == 403, url
            assert client.get(url, headers=HTMX).status_code == 403, url
