"""The audit log page: tabs, filters, sorting, keyset pages, CSV export, bad parameters."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.contrib.auth.models import User
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from tests.patterns_admin.conftest import make_staff, max_queries
from toolkit.models import CommandAuditLog, StateTransitionAudit

URL = reverse("patterns_admin:audit-list")


def rows_of(html: str) -> int:
    """How many data rows the rendered table holds."""
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr") - body.count("panel-empty-row")


class AuditListTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        cls.alice = User.objects.create_user("alice")
        now = timezone.now()
        cls.now = now
        StateTransitionAudit.objects.bulk_create(
            StateTransitionAudit(
                model="shop.order",
                object_id=str(i),
                machine="OrderMachine",
                transition="pay" if i % 2 else "ship",
                from_state="new" if i % 2 else "paid",
                to_state="paid" if i % 2 else "shipped",
                user=cls.alice if i % 3 == 0 else cls.staff,
                reason="<script>alert('x')</script>" if i == 7 else "",
                created_at=now - timedelta(minutes=i),
            )
            for i in range(1, 121)
        )
        CommandAuditLog.objects.create(
            command="demo.shop.commands.Refund", params={"amount": "=1+1"}, user=cls.alice
        )
        CommandAuditLog.objects.create(
            command="demo.shop.commands.Cancel", success=False, error="boom", user=cls.staff
        )

    def setUp(self) -> None:
        self.client.force_login(self.staff)

    def test_anonymous_and_non_staff_are_sent_to_login(self) -> None:
        assert Client().get(URL).status_code == 302
        client = Client()
        client.force_login(User.objects.create_user("customer"))
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    def test_full_page_then_fragment(self) -> None:
        page = self.client.get(URL)
        assert page.status_code == 200
        assert "HX-Request" in page["Vary"]
        assert "<html" in page.content.decode()
        assert rows_of(page.content.decode()) == 50
        fragment = self.client.get(URL, headers={"HX-Request": "true"})
        html = fragment.content.decode()
        assert "<html" not in html
        assert html.strip().startswith('<section id="results"')
        assert rows_of(html) == 50

    def test_filters_use_query_string_and_narrow_rows(self) -> None:
        html = self.client.get(URL, {"transition": "ship", "user": "alice"}).content.decode()
        expected = StateTransitionAudit.objects.filter(transition="ship", user=self.alice).count()
        assert rows_of(html) == expected

    def test_date_range_filter(self) -> None:
        after = (self.now - timedelta(minutes=10, seconds=30)).isoformat()
        response = self.client.get(URL, {"created_after": after})
        assert rows_of(response.content.decode()) == 10

    def test_object_filter(self) -> None:
        html = self.client.get(URL, {"model": "shop.order", "object_id": "42"}).content.decode()
        assert rows_of(html) == 1

    def test_keyset_pages_cover_every_row_once(self) -> None:
        seen: list[str] = []
        response = self.client.get(URL, {"per_page": 25})
        pages = 0
        while True:
            pages += 1
            table = response.context["table"]
            seen.extend(row.object_id for row in table.keyset.rows)
            if not table.keyset.has_next:
                break
            response = self.client.get(URL, {"per_page": 25, "before": table.keyset.next_cursor})
        assert pages == 5
        assert sorted(seen, key=int) == [str(i) for i in range(1, 121)]
        back = self.client.get(URL, {"per_page": 25, "after": table.keyset.previous_cursor})
        assert [r.object_id for r in back.context["table"].keyset.rows] == [
            str(i) for i in range(76, 101)
        ]

    def test_pagination_links_carry_hx_get_and_href(self) -> None:
        html = self.client.get(URL).content.decode()
        cursor = self.client.get(URL).context["table"].keyset.next_cursor
        assert f'href="?before={cursor}"' in html
        assert f'hx-get="?before={cursor}"' in html
        assert 'hx-push-url="true"' in html

    def test_sorting_uses_the_lazy_paginator(self) -> None:
        response = self.client.get(URL, {"sort": "to_state", "page": 2, "per_page": 25})
        assert response.status_code == 200
        table = response.context["table"]
        assert table.keyset is None
        assert table.page.number == 2
        states = [row.record.to_state for row in table.page.object_list]
        assert states == sorted(states)

    def test_sortable_headers_link_with_htmx(self) -> None:
        html = self.client.get(URL).content.decode()
        assert 'href="?sort=transition" hx-get="?sort=transition"' in html

    def test_commands_tab(self) -> None:
        html = self.client.get(URL, {"kind": "commands"}).content.decode()
        assert rows_of(html) == 2
        assert "Refund" in html and "boom" in html
        failed = self.client.get(URL, {"kind": "commands", "success": "false"}).content.decode()
        assert rows_of(failed) == 1

    def test_bad_parameters_give_empty_table_and_errors(self) -> None:
        cases = {
            "kind": ("nope", "kind: 'nope' is not one of 'commands', 'transitions'."),
            "created_after": ("yesterday", "From: Enter a valid date/time. (got 'yesterday')"),
            "per_page": ("7", "per_page: '7' is not one of 25, 50, 100, 200."),
            "page": ("x", "page: 'x' is not a whole number."),
            "before": ("zzz", "before: Invalid page cursor 'zzz'"),
            "sort": (
                "password",
                "sort: 'password' is not a column you can sort by; choices: 'created_at', "
                "'from_state', 'model', 'to_state', 'transition'.",
            ),
            "export": ("xml", "export: 'xml' is not a known format; choices: 'csv'."),
        }
        for name, (value, message) in cases.items():
            response = self.client.get(URL, {name: value})
            assert response.status_code == 400, name
            html = response.content.decode()
            assert message.replace("'", "&#x27;") in html, (name, html[:2000])
            assert rows_of(html) == 0
            fragment = self.client.get(URL, {name: value}, headers={"HX-Request": "true"})
            assert fragment.status_code == 200
            assert rows_of(fragment.content.decode()) == 0

    def test_bad_success_value_is_a_form_error(self) -> None:
        response = self.client.get(URL, {"kind": "commands", "success": "maybe"})
        assert response.status_code == 400
        assert (
            "Outcome: Select a valid choice. maybe is not one of the available choices. "
            "(got &#x27;maybe&#x27;)" in response.content.decode()
        )

    def test_payloads_are_escaped(self) -> None:
        html = self.client.get(URL, {"object_id": "7", "model": "shop.order"}).content.decode()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html

    def test_query_count_is_bounded_and_independent_of_rows(self) -> None:
        # session, user, the user's and groups' permissions, one page, the capped counts (the
        # result's and every facet option's, one query), the date hierarchy's first and last
        with max_queries(7) as first:
            self.client.get(URL)
        with max_queries(7):
            self.client.get(URL, {"kind": "commands"})
        with max_queries(7):
            self.client.get(URL, {"sort": "transition", "page": 2})
        assert len(first) <= 7

    def test_csv_export_streams_the_filtered_rows(self) -> None:
        response = self.client.get(URL, {"transition": "pay", "export": "csv"})
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"] == "text/csv"
        assert response["Content-Disposition"].startswith('attachment; filename="transitions-')
        body = b"".join(response.streaming_content).decode()
        rows = list(csv.reader(io.StringIO(body)))
        assert rows[0][:6] == ["id", "created_at", "model", "object_id", "machine", "transition"]
        assert len(rows) == 1 + 60
        assert {r[5] for r in rows[1:]} == {"pay"}

    def test_csv_export_columns_of_both_tabs(self) -> None:
        def rows(kind: str) -> list[list[str]]:
            response = self.client.get(URL, {"kind": kind, "export": "csv"})
            return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

        transitions = rows("transitions")
        assert transitions[0] == [
            "id", "created_at", "model", "object_id", "machine", "transition",
            "from_state", "to_state", "user", "reason", "metadata",
        ]  # fmt: skip
        assert transitions[1][2:9] == [
            "shop.order",
            "1",
            "OrderMachine",
            "pay",
            "new",
            "paid",
            "viewer",
        ]
        execute = CommandAuditLog.objects.create(command="c.Undoable", user=self.alice)
        undo = CommandAuditLog.objects.create(
            command="c.Undoable", kind=CommandAuditLog.Kind.UNDO, undo_of=execute, success=False
        )
        commands = rows("commands")
        assert commands[0] == [
            "id", "created_at", "command", "kind", "undo_of", "params", "result", "user",
            "success", "error", "duration_ms",
        ]  # fmt: skip
        by_id = {row[0]: row for row in commands[1:]}
        assert by_id[str(undo.pk)][2:5] == ["c.Undoable", "undo", str(execute.pk)]
        assert by_id[str(undo.pk)][7:9] == ["", "False"]
        assert by_id[str(execute.pk)][4] == "" and by_id[str(execute.pk)][7] == "alice"

    def test_csv_duration_is_rounded_like_the_tables(self) -> None:
        timed = CommandAuditLog.objects.create(command="c.Timed", duration_ms=12.345678901234)
        response = self.client.get(URL, {"kind": "commands", "export": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [r[10] for r in rows if r[0] == str(timed.pk)] == ["12.3"]

    def test_csv_export_neutralises_formulas(self) -> None:
        response = self.client.get(URL, {"kind": "commands", "export": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        params = {r[2]: r[5] for r in rows[1:]}
        assert params["demo.shop.commands.Refund"] == '{"amount": "=1+1"}'
        formula = CommandAuditLog.objects.create(command="=cmd()", user=self.staff)
        response = self.client.get(URL, {"kind": "commands", "export": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [r[2] for r in rows if r[0] == str(formula.pk)] == ["'=cmd()"]

    def test_filters_suggest_registered_models_transitions_and_states(self) -> None:
        from toolkit.registry import machines

        machine = machines.values()[0]
        html = self.client.get(URL).content.decode()
        for name in ("model", "transition", "from_state", "to_state"):
            assert f'list="suggest-{name}"' in html
        assert f'<option value="{machine.model._meta.label_lower}">' in html
        for transition in machine.transitions:
            assert f'<option value="{transition.name}">' in html
        commands_html = self.client.get(URL, {"kind": "commands"}).content.decode()
        assert '<datalist id="suggest-command">' in commands_html
        assert 'list="suggest-command"' in commands_html

    def test_post_is_not_allowed(self) -> None:
        assert self.client.post(URL).status_code == 405
