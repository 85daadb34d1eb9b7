"""undo_preview / checked_undo: the dry run of a command's own undo(), conflicts since the
command ran, and refusals that write nothing (issue 14, item 3 and defect 6)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from demo.shop.commands import ApplyDiscountCommand, CreateOrderCommand
from demo.shop.machines import OrderMachine
from demo.shop.models import Order
from toolkit.models import CommandAuditLog
from toolkit.patterns.command import Command
from toolkit.patterns.command_preview import (
    FieldChange,
    ObjectChange,
    checked_undo,
    undo_preview,
)
from toolkit.patterns.exceptions import UndoConflict, UndoNotSupported


class UndoPreviewTests(TestCase):
    def setUp(self) -> None:
        self.order = CreateOrderCommand("Ada", "ada@example.com", "100.00").execute()
        self.create_row = CommandAuditLog.objects.get()
        ApplyDiscountCommand(self.order.pk, 10).execute()
        self.discount_row = CommandAuditLog.objects.latest("id")

    def test_preview_lists_the_objects_and_fields_the_undo_changes_and_writes_nothing(
        self,
    ) -> None:
        preview = undo_preview(self.discount_row.pk)
        assert preview.error is None and preview.conflicts == ()
        assert len(preview.changes) == 1
        change = preview.changes[0]
        assert (change.model, change.pk, change.action) == (
            "shop.order",
            str(self.order.pk),
            "update",
        )
        # Raw column values: SQLite and PostgreSQL return numbers of their own types.
        fields = {
            fc.field: (Decimal(str(fc.before)), Decimal(str(fc.after))) for fc in change.fields
        }
        assert fields == {"total": (Decimal(90), Decimal(100)), "discount_percent": (10, 0)}
        self.order.refresh_from_db()
        assert self.order.total == Decimal("90.00")  # rolled back
        assert CommandAuditLog.objects.filter(kind="undo").count() == 0

    def test_preview_of_a_delete_lists_every_field_of_the_deleted_row(self) -> None:
        # The order is still pending: CreateOrderCommand's undo deletes it.
        preview = undo_preview(self.create_row.pk)
        assert preview.error is None
        deleted = [c for c in preview.changes if c.action == "delete"]
        assert [(c.model, c.pk) for c in deleted] == [("shop.order", str(self.order.pk))]
        assert FieldChange("customer", "Ada", None) in deleted[0].fields
        assert Order.objects.filter(pk=self.order.pk).exists()

    def test_a_later_transition_is_a_conflict_and_refuses_without_force(self) -> None:
        OrderMachine().trigger(self.order, "pay")  # type: ignore[call-arg]
        preview = undo_preview(self.discount_row.pk)
        assert preview.can_undo
        assert len(preview.conflicts) == 1
        assert preview.conflicts[0].startswith(
            f"shop.order #{self.order.pk} changed since the command ran: transition 'pay' "
            "(pending → paid) at "
        )
        with pytest.raises(UndoConflict) as info:
            checked_undo(self.discount_row.pk)
        assert info.value.conflicts == preview.conflicts
        assert not CommandAuditLog.objects.filter(kind="undo").exists()
        undo = checked_undo(self.discount_row.pk, force=True)
        assert undo.success and undo.undo_of_id == self.discount_row.pk
        self.order.refresh_from_db()
        assert self.order.total == Decimal("100.00")

    def test_an_undo_that_cannot_succeed_now_is_refused_without_a_failed_row(self) -> None:
        Order.objects.filter(pk=self.order.pk).update(status=Order.Status.PAID)
        preview = undo_preview(self.create_row.pk)
        assert preview.error == f"order #{self.order.pk} is no longer pending"
        assert not preview.can_undo
        with pytest.raises(UndoNotSupported):
            checked_undo(self.create_row.pk)
        assert not CommandAuditLog.objects.filter(kind="undo").exists()

    def test_already_undone_and_unknown_rows_say_why(self) -> None:
        checked_undo(self.discount_row.pk)
        assert undo_preview(self.discount_row.pk).error == (
            f"it was already undone (audit row {self.discount_row.pk})"
        )
        undo_row = CommandAuditLog.objects.get(kind="undo")
        assert undo_preview(undo_row.pk).error == (
            f"audit row {undo_row.pk} is an undo, not an execution"
        )
        assert undo_preview(999_999).error == "no command audit row 999999"

    def test_the_dry_run_writes_no_audit_row_and_leaves_no_open_savepoint(self) -> None:
        before = CommandAuditLog.objects.count()
        with CaptureQueriesContext(connection) as ctx:
            undo_preview(self.discount_row.pk)
        assert CommandAuditLog.objects.count() == before
        sql = " ".join(q["sql"] for q in ctx.captured_queries).upper()
        assert "ROLLBACK TO SAVEPOINT" in sql


def test_object_change_is_a_plain_value() -> None:
    change = ObjectChange("shop.order", "1", "update", (FieldChange("total", 1, 2),))
    assert change.fields[0].after == 2


class NoDryRunTests(TestCase):
    def test_a_command_that_acts_outside_the_database_is_not_rehearsed(self) -> None:
        from tests.patterns_admin.test_commands import AddToCounter

        AddToCounter.counter["value"] = 0
        AddToCounter(5).execute()
        row = CommandAuditLog.objects.get()
        preview = undo_preview(row.pk)
        assert AddToCounter.counter["value"] == 5  # undo() did not run
        assert (preview.dry_run, preview.changes, preview.error) == (False, (), None)
        assert preview.undo_state == row.undo_state


class BrokenUndo(Command[None]):
    """Its undo() fails after the dry run said nothing about it (a failure at run time)."""

    audit = True
    undo_dry_run = False
    calls: ClassVar[list[str]] = []

    def execute(self) -> None:
        self.calls.append("execute")

    def undo(self) -> None:
        self.calls.append("undo")
        raise RuntimeError("the payment provider is down")


class CheckedUndoFailureTests(TestCase):
    def test_a_failing_undo_is_still_recorded_as_a_failed_undo_row(self) -> None:
        BrokenUndo().execute()
        row = CommandAuditLog.objects.get()
        with pytest.raises(RuntimeError):
            checked_undo(row.pk)
        failed = CommandAuditLog.objects.get(kind="undo")
        assert (failed.success, failed.undo_of_id, failed.error) == (
            False,
            row.pk,
            "RuntimeError: the payment provider is down",
        )
        # A failed undo can be retried: the preview still allows it.
        assert undo_preview(row.pk).can_undo

    def test_the_failed_undo_row_keeps_the_trace_it_ran_under(self) -> None:
        """Rewritten after the rollback, the failure row records the same correlation and
        causation as audited_undo would: the enclosing ones, or the one the undo started."""
        from toolkit.eventsourcing import event_context

        BrokenUndo().execute()
        row = CommandAuditLog.objects.get()
        with (
            event_context(correlation_id="req-7", causation_id="event-9"),
            pytest.raises(RuntimeError),
        ):
            checked_undo(row.pk)
        failed = CommandAuditLog.objects.get(kind="undo")
        assert (failed.correlation_id, failed.causation_id) == ("req-7", "event-9")
        failed.delete()
        with pytest.raises(RuntimeError):
            checked_undo(row.pk)
        failed = CommandAuditLog.objects.get(kind="undo")
        assert failed.correlation_id and len(failed.correlation_id) == 32  # started its own
