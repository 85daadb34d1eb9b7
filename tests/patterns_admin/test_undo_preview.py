"""The undo confirmation previews what the undo changes and refuses what cannot succeed now
or would overwrite later changes (issue 14, item 3 and defect 6), through the toolkit's
undo_preview / checked_undo."""

from __future__ import annotations

from django.test import TestCase
from django.urls import reverse

from demo.shop.commands import ApplyDiscountCommand, CreateOrderCommand
from demo.shop.machines import OrderMachine
from demo.shop.models import Order
from patterns_admin.masking import MASK
from patterns_admin.models import PanelActionLog
from tests.patterns_admin.conftest import make_staff
from toolkit.models import CommandAuditLog

HTMX = {"HX-Request": "true"}


def confirm_url(pk: int) -> str:
    return reverse("patterns_admin:command-undo-confirm", args=[pk])


def undo_url(pk: int) -> str:
    return reverse("patterns_admin:command-undo", args=[pk])


class UndoPreviewPageTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.operator = make_staff("operator", "undo_command")
        cls.forcer = make_staff("forcer", "undo_command", "force_undo", "view_sensitive")

    def setUp(self) -> None:
        self.order = CreateOrderCommand("Ada", "ada@example.com", "100.00").execute()
        self.create_row = CommandAuditLog.objects.get()
        ApplyDiscountCommand(self.order.pk, 10).execute()
        self.discount_row = CommandAuditLog.objects.latest("id")
        self.client.force_login(self.operator)

    def test_the_confirmation_shows_each_object_and_field_the_undo_changes(self) -> None:
        html = self.client.get(confirm_url(self.discount_row.pk), headers=HTMX).content.decode()
        assert 'data-preview="ok"' in html
        assert f">shop.order #{self.order.pk}</a>" in html
        assert "<td>total</td><td><code>90" in html
        assert "<td>discount_percent</td><td><code>10</code></td><td><code>0</code>" in html
        assert f"Yes, undo #{self.discount_row.pk}" in html
        self.order.refresh_from_db()
        assert self.order.discount_percent == 10  # the dry run changed nothing

    def test_sensitive_fields_are_masked_in_the_preview(self) -> None:
        html = self.client.get(confirm_url(self.create_row.pk)).content.decode()
        assert "ada@example.com" not in html and MASK in html
        self.client.force_login(self.forcer)
        assert (
            "ada@example.com" in self.client.get(confirm_url(self.create_row.pk)).content.decode()
        )

    def test_an_undo_that_cannot_succeed_now_shows_why_and_offers_no_button(self) -> None:
        Order.objects.filter(pk=self.order.pk).update(status=Order.Status.PAID)
        html = self.client.get(confirm_url(self.create_row.pk)).content.decode()
        assert 'data-preview="refused"' in html
        assert f"It cannot be undone now: order #{self.order.pk} is no longer pending." in html
        assert "<form" not in html.split('id="undo-panel"')[1].split("</div>")[0]
        # Posting anyway is refused by the toolkit before undo() runs: no failed undo row.
        response = self.client.post(undo_url(self.create_row.pk))
        assert response.status_code == 302
        assert not CommandAuditLog.objects.filter(kind="undo").exists()
        assert Order.objects.filter(pk=self.order.pk).exists()

    def test_objects_changed_since_are_refused_unless_forced_with_the_permission(self) -> None:
        OrderMachine().trigger(self.order, "pay")
        html = self.client.get(confirm_url(self.discount_row.pk)).content.decode()
        assert 'data-preview="conflict"' in html
        assert "Refused: these objects changed since the command ran" in html
        assert "transition &#x27;pay&#x27; (pending → paid)" in html
        assert "needs the permission <code>patterns_admin.force_undo</code>" in html
        assert 'name="force"' not in html
        # Without force: refused, nothing written.
        self.client.post(undo_url(self.discount_row.pk))
        assert not CommandAuditLog.objects.filter(kind="undo").exists()
        failure = PanelActionLog.objects.get(action="undo_command")
        assert failure.detail["error_type"] == "UndoConflict"
        # Forcing without the permission is a recorded 403.
        assert self.client.post(undo_url(self.discount_row.pk), {"force": "1"}).status_code == 403
        assert PanelActionLog.objects.filter(action="refused").count() == 1
        # With it: the confirmation offers "anyway", and the undo runs.
        self.client.force_login(self.forcer)
        html = self.client.get(confirm_url(self.discount_row.pk)).content.decode()
        assert f"Undo #{self.discount_row.pk} anyway" in html and 'name="force"' in html
        self.client.post(undo_url(self.discount_row.pk), {"force": "1"})
        undo = CommandAuditLog.objects.get(kind="undo")
        assert undo.undo_of_id == self.discount_row.pk and undo.user == self.forcer
        assert PanelActionLog.objects.get(action="undo_command", success=True).detail["force"]

    def test_already_undone_is_not_offered_and_is_refused_without_a_row(self) -> None:
        self.client.post(undo_url(self.discount_row.pk))
        assert CommandAuditLog.objects.filter(kind="undo").count() == 1
        html = self.client.get(reverse("patterns_admin:command-list")).content.decode()
        row = html.split(f'id="command-{self.discount_row.pk}"')[1].split("</tr>")[0]
        assert "Undo…" not in row
        confirm = self.client.get(confirm_url(self.discount_row.pk)).content.decode()
        assert f"it was already undone (audit row {self.discount_row.pk})" in confirm
        self.client.post(undo_url(self.discount_row.pk))
        assert CommandAuditLog.objects.filter(kind="undo").count() == 1

    def test_a_row_whose_class_is_gone_offers_no_undo(self) -> None:
        gone = CommandAuditLog.objects.create(
            command="demo.removed.OldCommand", undoable=True, success=True
        )
        html = self.client.get(reverse("patterns_admin:command-list")).content.decode()
        row = html.split(f'id="command-{gone.pk}"')[1].split("</tr>")[0]
        assert "Undo…" not in row
        confirm = self.client.get(confirm_url(gone.pk)).content.decode()
        assert (
            "It cannot be undone now: cannot import &#x27;demo.removed.OldCommand&#x27;" in confirm
        )
