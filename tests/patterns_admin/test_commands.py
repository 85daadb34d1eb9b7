"""The command log and undo: confirmation, permission, CSRF, errors as messages."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import User
from django.test import Client, TestCase
from django.urls import reverse

from patterns_admin.models import PanelActionLog
from tests.patterns_admin.conftest import make_staff, max_queries
from toolkit.models import CommandAuditLog
from toolkit.patterns.command import Command

URL = reverse("patterns_admin:command-list")


class AddToCounter(Command[int]):
    """Adds ``amount`` to a counter; undo subtracts it."""

    counter: ClassVar[dict[str, int]] = {"value": 0}
    undo_dry_run = False  # the counter is in memory: a rollback would not restore it

    def __init__(self, amount: int) -> None:
        self.amount = amount

    def execute(self) -> int:
        self.counter["value"] += self.amount
        return self.counter["value"]

    def undo(self) -> None:
        self.counter["value"] -= self.amount


class SendEmail(Command[None]):
    """Not undoable: it has no ``undo``."""

    def __init__(self, to: str) -> None:
        self.to = to

    def execute(self) -> None:
        return None


class BrokenUndo(Command[None]):
    """Its undo fails."""

    def __init__(self, note: str) -> None:
        self.note = note

    def execute(self) -> None:
        return None

    def undo(self) -> None:
        raise RuntimeError("the warehouse refused")


def undo_url(pk: int) -> str:
    return reverse("patterns_admin:command-undo", args=[pk])


def confirm_url(pk: int) -> str:
    return reverse("patterns_admin:command-undo-confirm", args=[pk])


class CommandListTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.viewer = make_staff("viewer")
        cls.operator = make_staff("operator", "undo_command")

    def setUp(self) -> None:
        AddToCounter.counter["value"] = 0
        self.add = AddToCounter(5)
        self.add.execute(user=self.viewer)
        self.entry = self.add.audit_log
        assert self.entry is not None

    def login(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_list_full_page_and_fragment(self) -> None:
        page = self.login(self.viewer).get(URL)
        assert page.status_code == 200
        assert "HX-Request" in page["Vary"]
        html = page.content.decode()
        assert "<html" in html and "AddToCounter" in html
        fragment = self.login(self.viewer).get(URL, headers={"HX-Request": "true"})
        assert fragment.content.decode().strip().startswith('<section id="results"')

    def test_undo_button_only_for_undoable_rows_and_permitted_users(self) -> None:
        email = SendEmail("a@example.com")
        email.execute()
        html = self.login(self.operator).get(URL).content.decode()
        assert f'href="{confirm_url(self.entry.pk)}"' in html
        assert email.audit_log is not None
        assert f'href="{confirm_url(email.audit_log.pk)}"' not in html
        viewer_html = self.login(self.viewer).get(URL).content.decode()
        assert f'href="{confirm_url(self.entry.pk)}"' not in viewer_html
        assert "undoable" in viewer_html

    def test_confirmation_step_is_a_get_that_changes_nothing(self) -> None:
        response = self.login(self.operator).get(confirm_url(self.entry.pk))
        assert response.status_code == 200
        html = response.content.decode()
        assert f"Yes, undo #{self.entry.pk}" in html
        assert 'method="post"' in html and "csrfmiddlewaretoken" in html
        assert AddToCounter.counter["value"] == 5
        fragment = self.login(self.operator).get(
            confirm_url(self.entry.pk), headers={"HX-Request": "true"}
        )
        assert fragment.content.decode().strip().startswith('<div class="panel-confirm"')

    def test_anonymous_is_redirected_and_nothing_changes(self) -> None:
        response = Client().post(undo_url(self.entry.pk))
        assert response.status_code == 302
        assert AddToCounter.counter["value"] == 5
        assert not CommandAuditLog.objects.filter(undo_of=self.entry).exists()

    def test_staff_without_permission_gets_403_and_nothing_changes(self) -> None:
        response = self.login(self.viewer).post(undo_url(self.entry.pk))
        assert response.status_code == 403
        assert "HX-Request" in response["Vary"]
        assert "patterns_admin.undo_command" in response.content.decode()
        assert AddToCounter.counter["value"] == 5
        assert not CommandAuditLog.objects.filter(undo_of=self.entry).exists()
        assert not PanelActionLog.objects.exclude(action="refused").exists()
        confirm = self.login(self.viewer).get(confirm_url(self.entry.pk))
        assert confirm.status_code == 403
        assert self.login(self.operator).get(undo_url(self.entry.pk)).status_code == 405

    def test_csrf_is_enforced(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.operator)
        response = client.post(undo_url(self.entry.pk))
        assert response.status_code == 403
        assert AddToCounter.counter["value"] == 5
        assert not CommandAuditLog.objects.filter(undo_of=self.entry).exists()

    def test_csrf_token_from_the_page_is_accepted(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.operator)
        client.get(confirm_url(self.entry.pk))
        token = client.cookies["csrftoken"].value
        response = client.post(undo_url(self.entry.pk), headers={"X-CSRFToken": token})
        assert response.status_code == 302
        assert AddToCounter.counter["value"] == 0

    def test_undo_without_htmx_redirects_to_the_entry(self) -> None:
        client = self.login(self.operator)
        response = client.post(undo_url(self.entry.pk))
        assert response.status_code == 302
        assert response["Location"] == f"{URL}?entry={self.entry.pk}"
        assert AddToCounter.counter["value"] == 0
        undo = CommandAuditLog.objects.get(undo_of=self.entry)
        assert undo.user == self.operator
        action = PanelActionLog.objects.get()
        assert (action.user, action.action, action.target, action.success) == (
            self.operator,
            "undo_command",
            f"command#{self.entry.pk}",
            True,
        )
        assert action.detail["undo_id"] == undo.pk
        page = client.get(response["Location"]).content.decode()
        assert f"Undid #{self.entry.pk} (AddToCounter): see #{undo.pk}." in page
        assert f'of <a href="{URL}?entry={self.entry.pk}">#{self.entry.pk}</a>' in page
        assert "undone</span> by" in page

    def test_undo_with_htmx_returns_the_result_and_triggers_refresh(self) -> None:
        response = self.login(self.operator).post(
            undo_url(self.entry.pk), headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert response["HX-Trigger"] == '{"auditChanged": {}}'
        html = response.content.decode()
        undo = CommandAuditLog.objects.get(undo_of=self.entry)
        assert f'Undone: <a href="{URL}?entry={self.entry.pk}">#{undo.pk}</a>' in html
        assert 'hx-swap-oob="true"' in html

    def test_second_undo_is_a_message_not_a_500(self) -> None:
        client = self.login(self.operator)
        client.post(undo_url(self.entry.pk))
        response = client.post(undo_url(self.entry.pk), follow=True)
        assert response.status_code == 200
        html = response.content.decode()
        assert f"Could not undo #{self.entry.pk}:" in html
        assert AddToCounter.counter["value"] == 0
        assert CommandAuditLog.objects.filter(undo_of=self.entry, success=True).count() == 1
        failed = PanelActionLog.objects.get(success=False)
        assert failed.detail["error_type"] == "AlreadyUndone"

    def test_undo_of_not_undoable_command_is_a_message(self) -> None:
        email = SendEmail("a@example.com")
        email.execute()
        assert email.audit_log is not None
        response = self.login(self.operator).post(undo_url(email.audit_log.pk), follow=True)
        assert response.status_code == 200
        assert f"Could not undo #{email.audit_log.pk}:" in response.content.decode()
        assert PanelActionLog.objects.get().detail["error_type"] == "UndoNotSupported"

    def test_failing_undo_is_a_message(self) -> None:
        broken = BrokenUndo("x")
        broken.execute()
        assert broken.audit_log is not None
        response = self.login(self.operator).post(
            undo_url(broken.audit_log.pk), headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert "the warehouse refused" in response.content.decode()
        assert "Not undone." in response.content.decode()

    def test_unknown_entry_is_404(self) -> None:
        assert self.login(self.operator).post(undo_url(999_999)).status_code == 404

    def test_undo_row_cannot_itself_be_undone(self) -> None:
        self.login(self.operator).post(undo_url(self.entry.pk))
        undo = CommandAuditLog.objects.get(undo_of=self.entry)
        assert self.login(self.operator).post(undo_url(undo.pk)).status_code == 404
        assert self.login(self.operator).get(confirm_url(undo.pk)).status_code == 404

    def test_entry_filter_shows_the_original_and_its_undo(self) -> None:
        AddToCounter(1).execute()
        self.login(self.operator).post(undo_url(self.entry.pk))
        response = self.login(self.viewer).get(URL, {"entry": self.entry.pk})
        ids = sorted(r.pk for r in response.context["table"].keyset.rows)
        undo = CommandAuditLog.objects.get(undo_of=self.entry)
        assert ids == [self.entry.pk, undo.pk]

    def test_bad_parameters_give_empty_table_and_errors(self) -> None:
        response = self.login(self.viewer).get(URL, {"entry": "abc"})
        assert response.status_code == 400
        assert "Entry #: Enter a number. (got &#x27;abc&#x27;)" in response.content.decode()
        assert list(response.context["table"].keyset.rows) == []

    def test_params_are_escaped(self) -> None:
        SendEmail("<script>alert(1)</script>").execute()
        html = self.login(self.viewer).get(URL).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_query_count_does_not_grow_with_rows(self) -> None:
        for i in range(30):
            AddToCounter(i).execute(user=self.viewer)
        client = self.login(self.operator)
        # session, user, 2 permission reads, one page, the capped count, 4 facet counts
        with max_queries(10):
            client.get(URL)

    def test_get_list_only(self) -> None:
        assert self.login(self.viewer).post(URL).status_code == 405
