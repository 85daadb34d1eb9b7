"""Command: transactional audit rows, failures, undo at most once, rebuild from the row."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.db import connection, connections

from tests.testapp.models import Invoice
from toolkit import registry
from toolkit.models import CommandAuditLog
from toolkit.patterns.command import Command, undo_from_audit, with_undo_status
from toolkit.patterns.exceptions import (
    AlreadyUndone,
    CommandNotRebuildable,
    NotFound,
    UndoNotSupported,
    ValidationError,
)

PATH = f"{__name__}"


class CreateInvoiceCommand(Command[Invoice]):
    audit = True

    def __init__(self, number: str, amount: int = 10) -> None:
        self.number = number
        self.amount = amount
        self._created: Invoice | None = None

    def execute(self) -> Invoice:
        self._created = Invoice.objects.create(number=self.number, amount=self.amount)
        return self._created

    def undo(self) -> None:
        if self._created:
            self._created.delete()


class FailingCommand(Command[None]):
    audit = True

    def __init__(self, number: str) -> None:
        self.number = number

    def execute(self) -> None:
        Invoice.objects.create(number=self.number)
        raise ValueError("card declined")


class TotalCommand(Command[int]):
    """No undo: cannot be undone."""

    audit = True

    def __init__(self, *amounts: int, currency: str = "EUR", **extra: str) -> None:
        self.amounts = amounts
        self.currency = currency
        self.extra = extra

    def execute(self) -> int:
        return sum(self.amounts)


class ForbiddenUndoCommand(CreateInvoiceCommand):
    undoable = False


class FailingUndoCommand(CreateInvoiceCommand):
    def undo(self) -> None:
        Invoice.objects.create(number="partial-undo")
        raise RuntimeError("undo broke")


class UnauditedCommand(CreateInvoiceCommand):
    audit = False


class MarkedUndoCommand(CreateInvoiceCommand):
    """Undo that writes a marker row and fails once the invoice is gone (like most real
    undos), holding its transaction open a moment so that racing undos overlap."""

    def undo(self) -> None:
        deleted, _ = Invoice.objects.filter(number=self.number).delete()
        if not deleted:
            raise UndoNotSupported(self.command_path(), f"invoice {self.number!r} is gone")
        Invoice.objects.create(number=f"undo-marker-{self.number}")
        time.sleep(0.05)


pytestmark = pytest.mark.django_db


def test_execute_writes_audit_row_in_the_same_transaction() -> None:
    user = User.objects.create_user("alice")
    cmd = CreateInvoiceCommand("INV-1", amount=25)
    invoice = cmd.execute(user=user)

    row = CommandAuditLog.objects.get()
    assert cmd.audit_log == row
    assert (
        row.command,
        row.kind,
        row.params,
        row.result,
        row.user,
        row.success,
        row.error,
        row.undoable,
        row.undo_state,
    ) == (
        f"{PATH}.CreateInvoiceCommand",
        "execute",
        {"number": "INV-1", "amount": 25},
        {"__model__": "testapp.invoice", "pk": str(invoice.pk)},
        user,
        True,
        "",
        True,
        {"_created": {"__model__": "testapp.invoice", "pk": str(invoice.pk)}},
    )
    assert row.duration_ms is not None and row.duration_ms >= 0
    assert row.can_undo


def test_audit_row_failing_rolls_back_the_commands_writes() -> None:
    """The execute row is inserted in the command's own transaction: no row, no writes."""
    real_save = CommandAuditLog.save

    def save_failing_success_rows(row, *args, **kwargs):
        if row.success:
            raise RuntimeError("audit table full")
        return real_save(row, *args, **kwargs)

    with (
        mock.patch.object(CommandAuditLog, "save", save_failing_success_rows),
        pytest.raises(RuntimeError, match="audit table full"),
    ):
        CreateInvoiceCommand("INV-TX").execute()
    assert Invoice.objects.count() == 0
    failed = CommandAuditLog.objects.get()
    assert (failed.success, failed.error) == (False, "RuntimeError: audit table full")


def test_seed_example_execute_then_undo_with_audit_from_the_setting(settings) -> None:
    """The seed's CreateOrderCommand shape: ``audit`` unset, the setting turns it on."""

    class CreateOrderCommand(Command[Invoice]):
        def __init__(self, user_id: int, items: list) -> None:
            self.user_id = user_id
            self.items = items
            self._created_order: Invoice | None = None

        def execute(self) -> Invoice:
            self._created_order = Invoice.objects.create(number=",".join(self.items))
            return self._created_order

        def undo(self) -> None:
            if self._created_order:
                self._created_order.delete()

    settings.TOOLKIT = {"patterns": {"audit": True}}
    cmd = CreateOrderCommand(user_id=42, items=["Widget"])
    order = cmd.execute()
    assert Invoice.objects.get() == order
    cmd.undo()
    assert Invoice.objects.count() == 0
    execute, undo = CommandAuditLog.objects.order_by("pk")
    assert (execute.kind, execute.params, execute.undoable) == (
        "execute",
        {"user_id": 42, "items": ["Widget"]},
        True,
    )
    assert (undo.kind, undo.undo_of) == ("undo", execute)


def test_user_attribute_is_used_when_execute_gets_none() -> None:
    user = User.objects.create_user("bob")
    cmd = CreateInvoiceCommand("INV-2")
    cmd.user = user
    cmd.execute()
    assert CommandAuditLog.objects.get().user == user


def test_published_hooks_give_the_params_and_the_acting_user() -> None:
    # dmr-toolkit 0.1.0's Command hooks: _get_input_params() and _get_executed_by().
    user = User.objects.create_user("hook")

    class HookedCommand(CreateInvoiceCommand):
        def _get_input_params(self) -> dict:
            return {"number": self.number, "note": "from the hook"}

        def _get_executed_by(self):
            return user

    cmd = HookedCommand("INV-H")
    assert cmd.params() == {"number": "INV-H", "note": "from the hook"}
    cmd.execute()
    row = CommandAuditLog.objects.get()
    assert (row.input_params, row.executed_by) == (
        {"number": "INV-H", "note": "from the hook"},
        user,
    )
    other = User.objects.create_user("explicit")
    HookedCommand("INV-I").execute(user=other)  # user= still wins
    assert CommandAuditLog.objects.order_by("-id").first().executed_by == other


def test_as_user_sets_the_acting_user() -> None:
    user = User.objects.create_user("dora")
    cmd = CreateInvoiceCommand("INV-U")
    assert cmd.as_user(user) is cmd
    cmd.execute()
    assert CommandAuditLog.objects.get().user == user


def test_params_include_defaults_varargs_and_kwargs() -> None:
    cmd = TotalCommand(1, 2, 3, note="x")
    assert cmd.execute() == 6
    row = CommandAuditLog.objects.get()
    assert row.params == {"amounts": [1, 2, 3], "currency": "EUR", "note": "x"}
    assert row.result == 6
    assert row.undoable is False
    assert row.undo_state is None


def test_failure_rolls_back_the_commands_writes_and_records_the_error() -> None:
    with pytest.raises(ValueError, match="card declined"):
        FailingCommand("INV-X").execute()

    assert Invoice.objects.count() == 0
    row = CommandAuditLog.objects.get()
    assert (row.command, row.success, row.error, row.params, row.result) == (
        f"{PATH}.FailingCommand",
        False,
        "ValueError: card declined",
        {"number": "INV-X"},
        None,
    )
    assert not row.can_undo


def test_param_not_json_serialisable_names_it_and_writes_nothing() -> None:
    cmd = CreateInvoiceCommand("INV-3", amount={1, 2})  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        cmd.execute()
    assert info.value.field == "amount"
    assert str(info.value) == (
        f"{PATH}.CreateInvoiceCommand: params is not JSON-serialisable at 'amount': {{1, 2}} (set)"
    )
    assert Invoice.objects.count() == 0
    assert CommandAuditLog.objects.count() == 0


@pytest.mark.parametrize(
    ("number", "field", "rule"),
    [
        ("INV\x00", "number", "must not contain NUL ('\\x00'): 'INV\\x00'"),
        (
            "\ud800",
            "number",
            "must not contain the lone surrogate '\\ud800' (not valid UTF-8): '\\ud800'",
        ),
        (
            {1: "a", "1": "b"},
            "number",
            "has the key 1 (int); keys must be strings (JSON would turn it into '1')",
        ),
        (
            10**20,
            "number",
            "must be a 64-bit integer (at most ±9223372036854775807), not a 21-digit one",
        ),
    ],
    ids=["nul", "surrogate", "int-key", "huge-int"],
)
def test_bad_params_are_refused_like_every_other_input_and_write_nothing(
    number: Any, field: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as info:
        CreateInvoiceCommand(number).execute()
    assert (info.value.field, info.value.message) == (
        field,
        f"{PATH}.CreateInvoiceCommand: params at {field!r} {rule}",
    )
    assert Invoice.objects.count() == 0
    assert CommandAuditLog.objects.count() == 0


def test_dates_and_decimals_in_params_are_stored_as_text() -> None:
    from datetime import date
    from decimal import Decimal

    CreateInvoiceCommand(date(2026, 12, 3), amount=Decimal("9.90")).execute()  # type: ignore[arg-type]
    assert CommandAuditLog.objects.get().params == {"number": "2026-12-03", "amount": "9.90"}


def test_audit_off_runs_without_rows_and_undo_still_works() -> None:
    cmd = UnauditedCommand("INV-4")
    cmd.execute()
    assert Invoice.objects.count() == 1
    cmd.undo()
    assert Invoice.objects.count() == 0
    assert CommandAuditLog.objects.count() == 0


def test_unaudited_instance_is_undone_at_most_once_until_executed_again() -> None:
    cmd = UnauditedCommand("INV-ONCE")
    cmd.execute()
    cmd.undo()
    with pytest.raises(AlreadyUndone) as info:
        cmd.undo()  # the seed's undo would delete an already deleted instance
    assert info.value.args == (f"{PATH}.UnauditedCommand was already undone",)
    assert repr(info.value) == (f"AlreadyUndone(command='{PATH}.UnauditedCommand', audit_id=None)")
    cmd.execute()  # a new execution can be undone again
    assert Invoice.objects.count() == 1
    cmd.undo()
    assert Invoice.objects.count() == 0
    assert CommandAuditLog.objects.count() == 0


def test_audit_follows_the_setting(settings) -> None:
    class SettingCommand(Command[int]):
        def execute(self) -> int:
            return 1

    settings.TOOLKIT = {"patterns": {"audit": False}}
    SettingCommand().execute()
    assert CommandAuditLog.objects.count() == 0
    settings.TOOLKIT = {"patterns": {"audit": True}}
    SettingCommand().execute()
    assert CommandAuditLog.objects.count() == 1


def test_undo_is_recorded_linked_and_only_once() -> None:
    cmd = CreateInvoiceCommand("INV-5")
    cmd.execute()
    cmd.undo()

    assert Invoice.objects.count() == 0
    undo = CommandAuditLog.objects.get(kind="undo")
    assert (undo.undo_of, undo.success, undo.params, cmd.undo_log) == (
        cmd.audit_log,
        True,
        {"number": "INV-5", "amount": 10},
        undo,
    )
    with pytest.raises(AlreadyUndone) as info:
        cmd.undo()
    assert info.value.args == (
        f"{PATH}.CreateInvoiceCommand (audit row {cmd.audit_log.pk!r}) was already undone",
    )
    assert CommandAuditLog.objects.filter(kind="undo").count() == 1


def test_undo_of_an_audited_execution_is_recorded_even_with_audit_off_now(settings) -> None:
    class LaterUnaudited(CreateInvoiceCommand):
        audit = None

    settings.TOOLKIT = {"patterns": {"audit": True}}
    LaterUnaudited("INV-L").execute()
    row = CommandAuditLog.objects.get()
    settings.TOOLKIT = {"patterns": {"audit": False}}
    undo_from_audit(row.pk)
    assert CommandAuditLog.objects.filter(kind="undo", undo_of=row).count() == 1
    with pytest.raises(AlreadyUndone):
        undo_from_audit(row.pk)


class UndoRacedCommand(CreateInvoiceCommand):
    """Its undo lets "another" undo commit first, as a concurrent request would."""

    def undo(self) -> None:
        super().undo()
        CommandAuditLog.objects.create(
            command=self.command_path(), kind="undo", undo_of=self.audit_log, success=True
        )


def test_undo_losing_to_a_committed_undo_raises_already_undone_and_rolls_back() -> None:
    cmd = UndoRacedCommand("INV-R")
    cmd.execute()
    with pytest.raises(AlreadyUndone):
        cmd.undo()
    # the command's delete and the simulated row rolled back together
    assert list(Invoice.objects.values_list("number", flat=True)) == ["INV-R"]
    assert CommandAuditLog.objects.filter(kind="undo").count() == 0


def test_default_undo_state_skips_what_it_cannot_store() -> None:
    class Stateful(CreateInvoiceCommand):
        def execute(self) -> Invoice:
            self.note = "kept"
            self.handle = object()
            return super().execute()

    Stateful("INV-S").execute()
    state = CommandAuditLog.objects.get().undo_state
    assert set(state) == {"_created", "note"}
    assert state["note"] == "kept"


def test_command_without_undo_says_so() -> None:
    cmd = TotalCommand(1)
    cmd.execute()
    with pytest.raises(UndoNotSupported) as info:
        cmd.undo()
    assert info.value.args == (f"{PATH}.TotalCommand cannot be undone: it defines no undo()",)
    assert not TotalCommand.is_undoable()


def test_undoable_false_forbids_undo() -> None:
    cmd = ForbiddenUndoCommand("INV-6")
    cmd.execute()
    assert CommandAuditLog.objects.get().undoable is False
    with pytest.raises(UndoNotSupported) as info:
        cmd.undo()
    assert info.value.args == (f"{PATH}.ForbiddenUndoCommand cannot be undone: undoable = False",)
    assert Invoice.objects.count() == 1


def test_failed_undo_rolls_back_records_failure_and_can_be_retried() -> None:
    cmd = FailingUndoCommand("INV-7")
    cmd.execute()
    with pytest.raises(RuntimeError, match="undo broke"):
        cmd.undo()

    assert list(Invoice.objects.values_list("number", flat=True)) == ["INV-7"]
    failed = CommandAuditLog.objects.get(kind="undo")
    assert (failed.success, failed.error, failed.undo_of) == (
        False,
        "RuntimeError: undo broke",
        cmd.audit_log,
    )
    assert cmd.audit_log is not None and cmd.audit_log.can_undo


def test_undo_from_audit_rebuilds_the_command_from_its_row() -> None:
    user = User.objects.create_user("carol")
    CreateInvoiceCommand("INV-8").execute()
    row = CommandAuditLog.objects.get()

    undo = undo_from_audit(row.pk, user=user)

    assert Invoice.objects.count() == 0
    assert (undo.kind, undo.undo_of, undo.user, undo.success) == ("undo", row, user, True)
    with pytest.raises(AlreadyUndone):
        undo_from_audit(row.pk)


def test_undo_from_audit_refuses_what_cannot_be_undone() -> None:
    with pytest.raises(NotFound) as nf:
        undo_from_audit(999999)
    assert repr(nf.value) == "NotFound(model='CommandAuditLog', id=999999)"

    TotalCommand(1).execute()
    total = CommandAuditLog.objects.get()
    with pytest.raises(UndoNotSupported) as info:
        undo_from_audit(total.pk)
    assert info.value.args == (
        f"{PATH}.TotalCommand cannot be undone: it was recorded as not undoable",
    )

    with pytest.raises(ValueError):
        FailingCommand("F").execute()
    failed = CommandAuditLog.objects.get(success=False)
    with pytest.raises(UndoNotSupported) as info:
        undo_from_audit(failed.pk)
    assert info.value.args == (
        f"{PATH}.FailingCommand cannot be undone: its execution (audit row {failed.pk}) failed",
    )

    cmd = CreateInvoiceCommand("INV-9")
    cmd.execute()
    cmd.undo()
    with pytest.raises(UndoNotSupported) as info:
        undo_from_audit(cmd.undo_log.pk)
    assert info.value.args == (
        f"{PATH}.CreateInvoiceCommand cannot be undone: audit row {cmd.undo_log.pk} is an undo, "
        "not an execution",
    )


def test_unrebuildable_rows_raise_command_not_rebuildable() -> None:
    gone = CommandAuditLog.objects.create(command="nowhere.Missing", params={}, undoable=True)
    with pytest.raises(CommandNotRebuildable) as info:
        undo_from_audit(gone.pk)
    assert info.value.args[0].startswith(
        f"Cannot rebuild nowhere.Missing from audit row {gone.pk!r}: "
        "cannot import 'nowhere.Missing'"
    )
    bad = CommandAuditLog.objects.create(
        command=f"{PATH}.CreateInvoiceCommand", params={"colour": "red"}, undoable=True
    )
    with pytest.raises(CommandNotRebuildable) as info:
        undo_from_audit(bad.pk)
    assert info.value.args[0].startswith(
        f"Cannot rebuild {PATH}.CreateInvoiceCommand from audit row {bad.pk!r}: "
        "CreateInvoiceCommand(**{'colour': 'red'}) failed: "
    )
    not_cmd = CommandAuditLog.objects.create(command="toolkit.registry.Registry", undoable=True)
    with pytest.raises(CommandNotRebuildable) as info:
        undo_from_audit(not_cmd.pk)
    assert info.value.reason == "'toolkit.registry.Registry' is not a Command subclass"


def test_commands_register_by_dotted_path() -> None:
    assert registry.commands.get(f"{PATH}.CreateInvoiceCommand") is CreateInvoiceCommand


def test_with_undo_status_annotates_in_one_query(django_assert_num_queries) -> None:
    first = CreateInvoiceCommand("A")
    first.execute()
    CreateInvoiceCommand("B").execute()
    first.undo()

    second = CommandAuditLog.objects.get(kind="execute", params__number="B")
    with django_assert_num_queries(1):
        rows = {
            r.pk: (r.kind, r.is_undone, r.undo_row_id, r.can_undo)
            for r in with_undo_status(CommandAuditLog.objects.all())
        }
    assert rows == {
        first.audit_log.pk: ("execute", True, first.undo_log.pk, False),
        second.pk: ("execute", False, None, True),
        first.undo_log.pk: ("undo", False, None, False),
    }
    plain_a = CommandAuditLog.objects.get(kind="execute", params__number="A")
    assert plain_a.can_undo is False


def test_aexecute_and_aundo() -> None:
    cmd = CreateInvoiceCommand("ASYNC")
    invoice = async_to_sync(cmd.aexecute)()
    assert Invoice.objects.get() == invoice
    async_to_sync(cmd.aundo)()
    assert Invoice.objects.count() == 0
    assert CommandAuditLog.objects.filter(kind="undo", success=True).count() == 1


def test_super_execute_does_not_write_a_second_row() -> None:
    class Wrapped(CreateInvoiceCommand):
        def execute(self) -> Invoice:
            return super().execute()

    Wrapped("W").execute()
    assert CommandAuditLog.objects.count() == 1


def test_execute_and_undo_record_otel_spans(spans) -> None:
    cmd = CreateInvoiceCommand("SPAN")
    cmd.execute()
    cmd.undo()
    names = [(s.name, dict(s.attributes)) for s in spans.get_finished_spans()]
    command = f"{PATH}.CreateInvoiceCommand"
    assert ("command.execute", {"command": command}) in names
    assert ("command.undo", {"command": command}) in names


# -- PostgreSQL: other processes and threads -------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_undo_from_audit_in_another_process() -> None:
    from tests.services import require_postgres_db

    require_postgres_db()
    CreateInvoiceCommand("INV-PROC").execute()
    row = CommandAuditLog.objects.get()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    script = (
        "import django; django.setup();"
        "from toolkit.patterns.command import undo_from_audit;"
        f"print(undo_from_audit({row.pk}).pk)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    undo = CommandAuditLog.objects.get(kind="undo")
    assert out.stdout.strip() == str(undo.pk)
    assert undo.undo_of_id == row.pk
    assert Invoice.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_undos_one_wins_the_rest_get_already_undone_and_write_nothing() -> None:
    from tests.services import require_postgres_db

    require_postgres_db()
    commands, racers = 10, 6
    for i in range(commands):
        MarkedUndoCommand(f"INV-RACE-{i}").execute()
    outcomes: list[tuple[int, str]] = []

    def worker(audit_id: int, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(10)
            undo_from_audit(audit_id)
            outcomes.append((audit_id, "ok"))
        except AlreadyUndone:
            outcomes.append((audit_id, "already"))
        except Exception as exc:  # reported by the assertion below
            outcomes.append((audit_id, f"{type(exc).__name__}: {exc}"))
        finally:
            connections.close_all()

    executions = list(CommandAuditLog.objects.filter(kind="execute").values_list("pk", flat=True))
    for audit_id in executions:
        barrier = threading.Barrier(racers)
        threads = [threading.Thread(target=worker, args=(audit_id, barrier)) for _ in range(racers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

    for audit_id in executions:
        mine = sorted(outcome for pk, outcome in outcomes if pk == audit_id)
        assert mine == ["already"] * (racers - 1) + ["ok"], mine
    undos = CommandAuditLog.objects.filter(kind="undo")
    assert undos.filter(success=False).count() == 0  # no spurious failed undo rows
    assert sorted(undos.values_list("undo_of_id", flat=True)) == sorted(executions)
    assert sorted(Invoice.objects.values_list("number", flat=True)) == sorted(
        f"undo-marker-INV-RACE-{i}" for i in range(commands)
    )


def test_docs_page_examples_run() -> None:
    from tests.toolkit.patterns.docs_examples import run_page

    namespace = run_page("command.md")
    assert namespace["undo_row"].kind == "undo"
