"""The audit models under dmr-toolkit 0.1.0's field names: read, write, create, query."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.test import TestCase
from django.utils import timezone

from toolkit.models import CommandAuditLog, StateTransitionAudit


class PublishedCommandAuditNamesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        users = get_user_model().objects
        cls.ada = users.create_user("ada", password="x")
        cls.bob = users.create_user("bob", password="x")
        cls.old = timezone.now() - timedelta(days=3)
        cls.row = CommandAuditLog.objects.create(
            command="shop.commands.Refund", params={"order": 7}, user=cls.ada
        )
        cls.other = CommandAuditLog.objects.create(
            command="shop.commands.Ship", params={"order": 8}, user=cls.bob, created_at=cls.old
        )

    def test_published_names_read_our_fields(self) -> None:
        row = CommandAuditLog.objects.get(pk=self.row.pk)
        assert row.command_class == "shop.commands.Refund"
        assert row.input_params == {"order": 7}
        assert row.executed_by == self.ada
        assert row.timestamp == row.created_at

    def test_create_with_the_published_names(self) -> None:
        # What dmr-toolkit 0.1.0's own audit writer passes to objects.create().
        row = CommandAuditLog.objects.create(
            command_class="CreateOrderCommand",
            input_params={"user_id": 42},
            result={"id": 1},
            executed_by=self.bob,
            success=True,
        )
        row.refresh_from_db()
        assert (row.command, row.params, row.user) == (
            "CreateOrderCommand",
            {"user_id": 42},
            self.bob,
        )

    def test_published_names_are_writable(self) -> None:
        row = CommandAuditLog.objects.get(pk=self.row.pk)
        row.executed_by = self.bob
        row.input_params = {"order": 9}
        row.save()
        row.refresh_from_db()
        assert (row.user, row.params) == (self.bob, {"order": 9})

    def test_filter_exclude_and_order_by_the_published_names(self) -> None:
        rows = CommandAuditLog.objects
        assert list(rows.filter(executed_by=self.ada)) == [self.row]
        assert list(rows.filter(executed_by__username="bob")) == [self.other]
        assert list(rows.exclude(executed_by=self.ada)) == [self.other]
        assert list(rows.filter(timestamp__lt=timezone.now() - timedelta(days=1))) == [self.other]
        assert list(rows.order_by("timestamp")) == [self.other, self.row]
        assert list(rows.filter(command_class__endswith=".Ship")) == [self.other]
        assert list(rows.filter(input_params__order=7)) == [self.row]
        assert rows.filter(executed_by__isnull=True).count() == 0

    def test_update_and_delete_through_the_aliases(self) -> None:
        assert CommandAuditLog.objects.filter(executed_by=self.bob).update(success=False) == 1
        assert CommandAuditLog.objects.get(pk=self.other.pk).success is False
        deleted, _ = (
            CommandAuditLog.objects.filter(timestamp__lt=timezone.now())
            .filter(command_class="shop.commands.Ship")
            .delete()
        )
        assert deleted == 1

    def test_no_join_unless_a_lookup_goes_through_executed_by(self) -> None:
        assert "JOIN" not in str(CommandAuditLog.objects.filter(success=True).query)
        assert "JOIN" in str(CommandAuditLog.objects.filter(executed_by__username="x").query)


class PublishedTransitionAuditNamesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.ada = get_user_model().objects.create_user("ada", password="x")
        cls.row = StateTransitionAudit.objects.create(
            model="shop.order",
            object_id="1",
            machine="OrderMachine",
            transition="pay",
            from_state="pending",
            to_state="paid",
            triggered_by=cls.ada,
        )

    def test_read_and_query_under_the_published_names(self) -> None:
        row = StateTransitionAudit.objects.get(triggered_by=self.ada)
        assert row == self.row
        assert row.triggered_by == row.user == self.ada
        assert row.timestamp == row.created_at
        assert list(StateTransitionAudit.objects.order_by("-timestamp")) == [self.row]
        assert not StateTransitionAudit.objects.filter(triggered_by__isnull=True).exists()
