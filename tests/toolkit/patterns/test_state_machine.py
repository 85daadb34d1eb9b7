"""StateMachine: decisions on plain objects, the audited conditional UPDATE on models,
diagrams, the registry, spans, and two concurrent triggers on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.test import override_settings

from tests.testapp.models import Invoice, Parcel, Shipment, Ticket
from toolkit import registry
from toolkit.models import StateTransitionAudit
from toolkit.patterns.exceptions import (
    EventDispatchError,
    GuardFailed,
    InvalidTransition,
    TransitionNotPermitted,
    ValidationError,
)
from toolkit.patterns.observer import default_bus
from toolkit.patterns.state_machine import Guard, StateMachine, Transition, guard


@guard("Only orders that allow it can be cancelled")
def can_cancel(entity, user):
    return entity.can_cancel


class OrderMachine(StateMachine):
    class Meta:
        name = "test-sm-orders"  # unique: the registry is process-wide
        states = ["pending", "paid", "shipped", "cancelled"]
        state_field = "status"
        audit = True
        transitions = [
            Transition("pay", source="pending", target="paid"),
            Transition("ship", source="paid", target="shipped", permission="testapp.ship"),
            Transition(
                "cancel", source=["pending", "paid"], target="cancelled", guards=[can_cancel]
            ),
        ]


class TicketMachine(StateMachine):
    class Meta:
        model = Ticket
        name = "test-sm-tickets"
        states = ["open", "in_progress", "closed"]
        state_field = "status"
        audit = True
        transitions = [
            Transition("start", source="open", target="in_progress"),
            Transition("close", source=["open", "in_progress"], target="closed"),
        ]


class InvoiceMachine(StateMachine):
    class Meta:
        name = "test-sm-invoices"
        model = Invoice
        states = ["draft", "sent", "paid", "void"]
        state_field = "status"
        transitions = [
            Transition("send", source="draft", target="sent"),
            Transition(
                "pay",
                source="sent",
                target="paid",
                guards=[Guard(lambda inv, user: inv.amount > 0, "An invoice of 0 cannot be paid")],
            ),
            Transition(
                "void",
                source="*",
                target="void",
                permission=lambda inv, user: user is not None and user.is_staff,
            ),
        ]


def order(status: str = "pending", can_cancel: bool = True) -> SimpleNamespace:
    return SimpleNamespace(status=status, can_cancel=can_cancel)


class FakeUser:
    def __init__(self, *perms: str) -> None:
        self.perms = set(perms)
        self.is_staff = False

    def has_perm(self, perm: str) -> bool:
        return perm in self.perms

    def __str__(self) -> str:
        return "fake"


# -- plain objects ---------------------------------------------------------------------------


def test_trigger_on_plain_object_sets_the_state_and_returns_it() -> None:
    machine = OrderMachine()
    o = order()
    assert machine.trigger(o, "pay") == "paid"
    assert o.status == "paid"
    assert machine.trigger(o, "ship", user=FakeUser("testapp.ship")) == "shipped"
    assert o.status == "shipped"


def test_set_event_bus_emits_the_published_event_after_each_trigger() -> None:
    # dmr-toolkit 0.1.0: machine.set_event_bus(bus); trigger emits "<model>.<transition>".
    from toolkit.patterns.observer import EventBus

    bus = EventBus(backend="default")
    received: list[dict[str, Any]] = []
    bus.on("simplenamespace.pay")(received.append)
    machine = OrderMachine()
    machine.set_event_bus(bus)
    o = order()
    machine.trigger(o, "pay", user="ada")
    assert received == [{"entity": o, "from_state": "pending", "to_state": "paid", "user": "ada"}]
    with pytest.raises(InvalidTransition):
        machine.trigger(o, "pay")
    assert len(received) == 1  # a refused transition emits nothing
    OrderMachine().trigger(order(), "pay")  # other machine instances: no bus
    assert len(received) == 1


def test_trigger_from_wrong_source_raises_invalid_transition() -> None:
    o = order("shipped")
    with pytest.raises(InvalidTransition) as info:
        OrderMachine().trigger(o, "pay")
    assert info.value.args == (
        "Cannot 'pay' from state 'shipped'; transitions allowed from this state: none",
    )
    assert (info.value.transition, info.value.state, info.value.allowed) == ("pay", "shipped", ())
    assert o.status == "shipped"


def test_wrong_source_lists_the_transitions_allowed_from_the_state() -> None:
    with pytest.raises(InvalidTransition) as info:
        OrderMachine().trigger(order("paid"), "pay")
    assert info.value.args == (
        "Cannot 'pay' from state 'paid'; transitions allowed from this state: 'cancel', 'ship'",
    )


def test_errors_carry_their_values_in_repr() -> None:
    with pytest.raises(InvalidTransition) as wrong:
        OrderMachine().trigger(order("shipped"), "pay")
    assert repr(wrong.value) == "InvalidTransition(transition='pay', state='shipped', allowed=())"
    with pytest.raises(GuardFailed) as blocked:
        OrderMachine().trigger(order(can_cancel=False), "cancel")
    assert repr(blocked.value) == (
        "GuardFailed(transition='cancel', guard='can_cancel', "
        "explanation='Only orders that allow it can be cancelled')"
    )


def test_unknown_transition_lists_the_valid_names() -> None:
    with pytest.raises(InvalidTransition) as info:
        OrderMachine().trigger(order(), "refund")
    assert info.value.args == (
        "Unknown transition 'refund' for test-sm-orders; "
        "valid transitions: 'cancel', 'pay', 'ship'",
    )
    assert info.value.allowed == ("cancel", "pay", "ship")


def test_guard_failure_carries_the_explanation() -> None:
    o = order(can_cancel=False)
    with pytest.raises(GuardFailed) as info:
        OrderMachine().trigger(o, "cancel")
    assert info.value.args == (
        "Guard 'can_cancel' blocked transition 'cancel': "
        "Only orders that allow it can be cancelled",
    )
    assert info.value.explanation == "Only orders that allow it can be cancelled"
    assert o.status == "pending"


def test_plain_callable_guard_receives_entity_and_user() -> None:
    seen = []

    def record(entity, user):
        seen.append((entity, user))
        return False

    class M(StateMachine):
        class Meta:
            name = "test-plain-guard"
            states = ["a", "b"]
            transitions = [Transition("go", source="a", target="b", guards=[record])]

    entity, user = SimpleNamespace(state="a"), FakeUser()
    with pytest.raises(GuardFailed) as info:
        M().trigger(entity, "go", user=user)
    assert seen == [(entity, user)]
    assert info.value.args == ("Guard 'record' blocked transition 'go'",)
    assert info.value.explanation is None


def test_permission_name_is_checked_with_has_perm() -> None:
    with pytest.raises(TransitionNotPermitted) as info:
        OrderMachine().trigger(order("paid"), "ship", user=FakeUser())
    assert info.value.args == ("User fake may not trigger 'ship' (needs 'testapp.ship')",)
    with pytest.raises(TransitionNotPermitted):
        OrderMachine().trigger(order("paid"), "ship")  # no user: no permission


def test_permission_callable_receives_entity_and_user() -> None:
    machine = InvoiceMachine()
    staff = FakeUser()
    staff.is_staff = True
    inv = SimpleNamespace(status="sent", amount=5)
    with pytest.raises(TransitionNotPermitted) as info:
        machine.trigger(inv, "void", user=FakeUser())
    assert info.value.args == ("User fake may not trigger 'void' (needs '<lambda>')",)
    assert machine.trigger(inv, "void", user=staff) == "void"


def test_star_source_means_every_other_state() -> None:
    void = InvoiceMachine().get_transition("void")
    assert void.sources == ("draft", "sent", "paid")


def test_available_transitions_and_check_transitions() -> None:
    machine = OrderMachine()
    o = order("paid", can_cancel=False)
    shipper = FakeUser("testapp.ship")

    assert [t.name for t in machine.available_transitions(o, shipper)] == ["ship"]
    assert machine.available_transitions(o) == []
    checks = {c.transition.name: (c.allowed, c.reason) for c in machine.check_transitions(o)}
    assert checks == {
        "pay": (
            False,
            "Cannot 'pay' from state 'paid'; transitions allowed from this state: 'cancel', 'ship'",
        ),
        "ship": (False, "User None may not trigger 'ship' (needs 'testapp.ship')"),
        "cancel": (False, "Only orders that allow it can be cancelled"),
    }


def test_transition_attributes() -> None:
    t = Transition("mark_paid", source=["a", "b"], target="c", permission="x.y")
    assert (t.name, t.sources, t.source, t.target, t.label, t.permission_name) == (
        "mark_paid",
        ("a", "b"),
        ("a", "b"),
        "c",
        "mark paid",
        "x.y",
    )
    assert repr(t) == "Transition('mark_paid', source=('a', 'b'), target='c')"
    assert Transition("x", source="a", target="b").source == "a"


def test_bad_configuration_names_the_state_and_lists_states() -> None:
    with pytest.raises(ImproperlyConfigured) as info:

        class Broken(StateMachine):
            class Meta:
                name = "test-broken"
                states = ["a", "b"]
                transitions = [Transition("go", source="a", target="z")]

    assert info.value.args == (
        "Broken: transition 'go' uses unknown state 'z'; states are: 'a', 'b'",
    )
    with pytest.raises(ImproperlyConfigured):

        class Twice(StateMachine):
            class Meta:
                name = "test-twice"
                states = ["a", "b"]
                transitions = [Transition("go", "a", "b"), Transition("go", "b", "a")]


def test_twice_declared_transition_is_rejected_by_name() -> None:
    with pytest.raises(ImproperlyConfigured) as info:

        class Twice(StateMachine):
            class Meta:
                name = "test-twice-named"
                states = ["a", "b"]
                transitions = [Transition("go", "a", "b"), Transition("go", "b", "a")]

    assert info.value.args == ("Twice: transition 'go' is declared twice",)


def test_state_field_that_the_model_lacks_is_rejected_listing_its_fields() -> None:
    with pytest.raises(ImproperlyConfigured) as info:

        class WrongField(StateMachine):
            class Meta:
                name = "test-sm-wrong-field"
                model = Invoice
                states = ["draft", "sent"]
                state_field = "state"
                transitions = [Transition("send", source="draft", target="sent")]

    assert info.value.args == (
        "WrongField: state_field 'state' is not a field of testapp.Invoice; "
        "fields are: 'amount', 'id', 'number', 'status'",
    )
    assert "test-sm-wrong-field" not in registry.machines


def test_seed_machine_configured_in_the_class_body_works_like_meta() -> None:
    """The seed's example read with the settings in the class body instead of ``Meta``."""

    class BodyMachine(StateMachine):
        name = "test-sm-class-body"
        states = ["pending", "paid", "shipped", "cancelled"]
        state_field = "status"
        audit = True
        transitions = [
            Transition("pay", source="pending", target="paid"),
            Transition("ship", source="paid", target="shipped"),
            Transition(
                "cancel",
                source="pending",
                target="cancelled",
                guards=[lambda entity, user: entity.can_cancel],
            ),
        ]

    machine = BodyMachine()
    assert registry.machines.get("test-sm-class-body") is not None
    o = order()
    machine.trigger(o, "pay")
    machine.trigger(o, "ship")
    assert o.status == "shipped"
    with pytest.raises(InvalidTransition) as wrong:
        machine.trigger(o, "pay")
    assert wrong.value.args == (
        "Cannot 'pay' from state 'shipped'; transitions allowed from this state: none",
    )
    with pytest.raises(GuardFailed) as blocked:
        machine.trigger(order(can_cancel=False), "cancel")
    assert blocked.value.args == ("Guard '<lambda>' blocked transition 'cancel'",)
    assert machine.diagram().startswith("stateDiagram-v2\n    [*] --> pending\n")


def test_machines_are_registered_by_name_and_model() -> None:
    assert isinstance(registry.machines.get("test-sm-orders"), OrderMachine)
    assert isinstance(registry.machines.get("test-sm-tickets"), TicketMachine)
    assert registry.machine_for_model(Ticket) is registry.machines.get("test-sm-tickets")
    machine = registry.machines.get("test-sm-tickets")
    assert (machine.name, machine.model, machine.states, machine.state_field) == (
        "test-sm-tickets",
        Ticket,
        ("open", "in_progress", "closed"),
        "status",
    )
    assert [t.name for t in machine.transitions] == ["start", "close"]


def test_diagram_is_mermaid_state_diagram() -> None:
    assert OrderMachine().diagram() == (
        "stateDiagram-v2\n"
        "    [*] --> pending\n"
        "    pending --> paid: pay\n"
        "    paid --> shipped: ship\n"
        "    pending --> cancelled: cancel\n"
        "    paid --> cancelled: cancel\n"
        "    shipped --> [*]\n"
        "    cancelled --> [*]\n"
    )


def test_to_dot_has_guards_on_edges_current_state_and_path() -> None:
    dot = OrderMachine().to_dot(current="paid", path=["pay"])
    assert dot.startswith('digraph "test-sm-orders" {\n    rankdir=LR;\n')
    assert '    "paid" [style="rounded,filled,bold", fillcolor="#ffe08a"];\n' in dot
    assert '    "pending" -> "paid" [label="pay", penwidth=2.5, color="#1f6feb"];\n' in dot
    assert '    "paid" -> "shipped" [label="ship\\nperm: testapp.ship"];\n' in dot
    assert '    "pending" -> "cancelled" [label="cancel [can_cancel]"];\n' in dot
    pairs = OrderMachine().to_dot(path=[("paid", "cancelled")])
    assert '"paid" -> "cancelled" [label="cancel [can_cancel]", penwidth=2.5' in pairs
    assert '"pending" -> "cancelled" [label="cancel [can_cancel]"];' in pairs


def test_to_dot_renders_with_graphviz_pure() -> None:
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    binary = Path(sys.executable).parent / "graphviz-pure"
    exe = str(binary) if binary.exists() else shutil.which("dot")
    if exe is None:
        pytest.skip("neither graphviz-pure nor dot is installed")
    svg = subprocess.run(
        [exe, "-Tsvg"],
        input=OrderMachine().to_dot(current="paid").encode(),
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    assert "<svg" in svg
    assert "shipped" in svg


# -- Django models ---------------------------------------------------------------------------


def test_a_plain_object_refuses_bad_reason_and_metadata_the_same_way() -> None:
    order = SimpleNamespace(status="pending", can_cancel=True)
    with pytest.raises(ValidationError) as info:
        OrderMachine().trigger(order, "pay", reason=None)  # type: ignore[arg-type]
    assert info.value.message == "pay: reason must be a string, not NoneType None"
    with pytest.raises(ValidationError) as info:
        OrderMachine().trigger(order, "pay", metadata="x")  # type: ignore[arg-type]
    assert info.value.message == "pay: metadata must be a dict, not str"
    assert order.status == "pending"


@pytest.mark.django_db
class TestModelTrigger:
    def test_trigger_updates_row_writes_audit_with_text_uuid_id(
        self, django_capture_on_commit_callbacks
    ) -> None:
        user = User.objects.create_user("alice")
        ticket = Ticket.objects.create(title="Printer")
        with django_capture_on_commit_callbacks(execute=False):
            TicketMachine().trigger(ticket, "start", user=user, reason="on it", metadata={"n": 1})

        ticket.refresh_from_db()
        assert ticket.status == "in_progress"
        audit = StateTransitionAudit.objects.get()
        assert (
            audit.model,
            audit.object_id,
            audit.machine,
            audit.transition,
            audit.from_state,
            audit.to_state,
            audit.user,
            audit.reason,
            audit.metadata,
        ) == (
            "testapp.ticket",
            str(ticket.pk),
            "test-sm-tickets",
            "start",
            "open",
            "in_progress",
            user,
            "on it",
            {"n": 1},
        )

    def test_int_pk_object_id_is_text(self, settings) -> None:
        settings.TOOLKIT = {"patterns": {"audit": True}}
        inv = Invoice.objects.create(amount=10)
        InvoiceMachine().trigger(inv, "send")
        audit = StateTransitionAudit.objects.get()
        assert audit.object_id == str(inv.pk)
        assert audit.machine == "test-sm-invoices"
        assert audit.user is None

    def test_audit_follows_setting_when_meta_audit_is_unset(self) -> None:
        inv = Invoice.objects.create(amount=10)
        with override_settings(TOOLKIT={"patterns": {"audit": False}}):
            InvoiceMachine().trigger(inv, "send")
        assert StateTransitionAudit.objects.count() == 0
        assert Invoice.objects.get().status == "sent"

    def test_event_is_emitted_after_commit(self, django_capture_on_commit_callbacks) -> None:
        seen = []
        default_bus.subscribe("ticket.*", seen.append)
        try:
            ticket = Ticket.objects.create()
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                TicketMachine().trigger(ticket, "close")
                assert seen == []  # not before commit
            assert len(callbacks) == 1
        finally:
            default_bus.off("ticket.*")
        assert seen == [
            {
                "model": "testapp.ticket",
                "object_id": str(ticket.pk),
                "machine": "test-sm-tickets",
                "transition": "close",
                "from_state": "open",
                "to_state": "closed",
                "user_id": None,
                "reason": "",
            }
        ]

    def test_stale_instance_raises_with_database_state_and_writes_nothing(self) -> None:
        ticket = Ticket.objects.create()
        stale = Ticket.objects.get(pk=ticket.pk)
        TicketMachine().trigger(ticket, "close")

        with pytest.raises(InvalidTransition) as info:
            TicketMachine().trigger(stale, "start")

        assert info.value.args == (
            f"Cannot 'start' testapp.Ticket#{ticket.pk}: it is no longer in state 'open' "
            "(now 'closed'); nothing was written",
        )
        assert info.value.state == "closed"
        assert stale.status == "open"
        assert list(StateTransitionAudit.objects.values_list("transition", flat=True)) == ["close"]

    def test_guard_failure_writes_nothing(self) -> None:
        inv = Invoice.objects.create(amount=0, status="sent")
        with pytest.raises(GuardFailed) as info:
            InvoiceMachine().trigger(inv, "pay")
        assert info.value.explanation == "An invoice of 0 cannot be paid"
        assert Invoice.objects.get().status == "sent"
        assert StateTransitionAudit.objects.count() == 0

    def test_permission_checked_with_real_user_has_perm(self) -> None:
        user = User.objects.create_user("bob")
        ticket = Ticket.objects.create()

        class Perm(StateMachine):
            class Meta:
                name = "test-perm"
                states = ["open", "in_progress", "closed"]
                state_field = "status"
                audit = True
                transitions = [
                    Transition(
                        "close", source="open", target="closed", permission="testapp.change_ticket"
                    )
                ]

        with pytest.raises(TransitionNotPermitted):
            Perm().trigger(ticket, "close", user=user)
        user.user_permissions.add(Permission.objects.get(codename="change_ticket"))
        user = User.objects.get(pk=user.pk)  # fresh permission cache
        Perm().trigger(ticket, "close", user=user)
        assert Ticket.objects.get().status == "closed"

    def test_metadata_not_json_serialisable_is_rejected_and_nothing_written(self) -> None:
        ticket = Ticket.objects.create()
        with pytest.raises(ValidationError) as info:
            TicketMachine().trigger(ticket, "close", metadata={"when": object})
        assert (info.value.field, info.value.message) == (
            "when",
            "close: metadata is not JSON-serialisable at 'when': <class 'object'> (type)",
        )
        assert Ticket.objects.get().status == "open"
        assert StateTransitionAudit.objects.count() == 0

    def test_datetimes_in_metadata_are_stored_as_iso_text(self) -> None:
        ticket = Ticket.objects.create()
        at = datetime(2026, 12, 3, 21, 5, 7, 123456, tzinfo=UTC)
        metadata = {"at": at, "on": date(2026, 12, 3), "amount": Decimal("9.90"), "n": [1]}
        TicketMachine().trigger(ticket, "close", metadata=metadata)
        audit = StateTransitionAudit.objects.get()
        assert audit.metadata == {
            "at": "2026-12-03T21:05:07.123Z",  # DjangoJSONEncoder: milliseconds, "Z"
            "on": "2026-12-03",
            "amount": "9.90",
            "n": [1],
        }
        assert metadata["at"] is at  # the caller's dict is not changed

    @pytest.mark.parametrize(
        ("kwargs", "field", "message"),
        [
            ({"reason": None}, "reason", "close: reason must be a string, not NoneType None"),
            (
                {"reason": "ok\x00"},
                "reason",
                "close: reason must not contain NUL ('\\x00'): 'ok\\x00'",
            ),
            (
                {"reason": "r" * 10_001},
                "reason",
                f"close: reason must be at most 10000 characters, not 10001 ({'r' * 40!r}...)",
            ),
            ({"metadata": ["x"]}, "metadata", "close: metadata must be a dict, not list"),
            (
                {"metadata": {"note": "\x00"}},
                "note",
                "close: metadata at 'note' must not contain NUL ('\\x00'): '\\x00'",
            ),
            (
                {"metadata": {"big": 10**20}},
                "big",
                "close: metadata at 'big' must be a 64-bit integer (at most "
                "±9223372036854775807), not a 21-digit one",
            ),
            (
                {"metadata": {1: "a", "1": "b"}},
                "metadata",
                "close: metadata at 'metadata' has the key 1 (int); keys must be strings "
                "(JSON would turn it into '1')",
            ),
        ],
        ids=[
            "reason-none",
            "reason-nul",
            "reason-long",
            "metadata-list",
            "metadata-nul",
            "metadata-huge-int",
            "metadata-int-key",
        ],
    )
    def test_bad_reason_or_metadata_is_a_validation_error_and_writes_nothing(
        self, kwargs: dict[str, Any], field: str, message: str
    ) -> None:
        ticket = Ticket.objects.create()
        with pytest.raises(ValidationError) as info:
            TicketMachine().trigger(ticket, "close", **kwargs)
        assert (info.value.field, info.value.message) == (field, message)
        assert Ticket.objects.get().status == "open"
        assert StateTransitionAudit.objects.count() == 0

    def test_unknown_transition_on_a_saved_row_names_it_and_writes_nothing(
        self, django_capture_on_commit_callbacks
    ) -> None:
        ticket = Ticket.objects.create()
        with (
            django_capture_on_commit_callbacks(execute=False) as callbacks,
            pytest.raises(InvalidTransition) as info,
        ):
            TicketMachine().trigger(ticket, "reopen")
        assert info.value.args == (
            "Unknown transition 'reopen' for test-sm-tickets; valid transitions: 'close', 'start'",
        )
        assert callbacks == []
        assert Ticket.objects.get().status == "open"
        assert StateTransitionAudit.objects.count() == 0

    def test_audit_row_failing_rolls_back_the_state_change(self) -> None:
        """The audit insert and the UPDATE share one transaction."""
        ticket = Ticket.objects.create()
        with (
            mock.patch.object(StateTransitionAudit, "save", side_effect=RuntimeError("audit down")),
            pytest.raises(RuntimeError, match="audit down"),
        ):
            TicketMachine().trigger(ticket, "start")
        assert Ticket.objects.get().status == "open"
        assert ticket.status == "open"
        assert StateTransitionAudit.objects.count() == 0

    def test_unsaved_instance_only_changes_the_attribute(self) -> None:
        ticket = Ticket(title="new")
        assert TicketMachine().trigger(ticket, "start") == "in_progress"
        assert ticket.status == "in_progress"
        assert Ticket.objects.count() == 0
        assert StateTransitionAudit.objects.count() == 0

    def test_atrigger(self) -> None:
        ticket = Ticket.objects.create()
        assert async_to_sync(TicketMachine().atrigger)(ticket, "start") == "in_progress"
        assert Ticket.objects.get().status == "in_progress"
        assert StateTransitionAudit.objects.get().transition == "start"


class ParcelMachine(StateMachine):
    class Meta:
        name = "test-sm-parcels"
        model = Parcel
        protected = True
        states = ["packed", "sent", "delivered"]
        state_field = "status"
        audit = True
        transitions = [
            Transition("send", source="packed", target="sent"),
            Transition("deliver", source="sent", target="delivered"),
        ]


class ShipmentMachine(StateMachine):
    class Meta:
        name = "test-sm-shipments"
        model = Shipment
        protected = True
        states = ["booked", "loaded"]
        state_field = "status"
        audit = False
        transitions = [Transition("load", source="booked", target="loaded")]


@pytest.mark.django_db
class TestProtectedStateField:
    def test_direct_assignment_is_refused_naming_the_values_and_transitions(self) -> None:
        parcel = Parcel.objects.create(label="P1")
        with pytest.raises(InvalidTransition) as info:
            parcel.status = "delivered"
        assert info.value.args == (
            "Cannot set testapp.Parcel.status from 'packed' to 'delivered' directly: it is "
            "protected by state machine 'test-sm-parcels'; trigger a transition instead "
            "(from 'packed': 'send')",
        )
        assert parcel.status == "packed"
        parcel.save()
        assert Parcel.objects.get().status == "packed"

    def test_trigger_creation_loading_and_refresh_still_set_it(self) -> None:
        parcel = Parcel.objects.create(label="P2", status="packed")
        parcel.status = "packed"  # the same value is no change
        ParcelMachine().trigger(parcel, "send")
        assert parcel.status == "sent"
        loaded = Parcel.objects.get(pk=parcel.pk)
        assert loaded.status == "sent"
        ParcelMachine().trigger(loaded, "deliver")
        parcel.refresh_from_db()  # reloading what the database says is not a bypass
        assert parcel.status == "delivered"
        deferred = Parcel.objects.only("label").get(pk=parcel.pk)
        assert deferred.status == "delivered"
        assert StateTransitionAudit.objects.filter(object_id=str(parcel.pk)).count() == 2

    def test_database_default_is_filled_in_by_the_insert(self) -> None:
        shipment = Shipment.objects.create()
        assert shipment.status == "booked"  # the value RETURNING gave back replaced db_default
        ShipmentMachine().trigger(shipment, "load")
        assert Shipment.objects.get().status == "loaded"
        with pytest.raises(InvalidTransition):
            shipment.status = "booked"

    def test_unsaved_instance_moves_only_through_the_machine(self) -> None:
        parcel = Parcel()
        ParcelMachine().trigger(parcel, "send")
        assert parcel.status == "sent"
        with pytest.raises(InvalidTransition):
            parcel.status = "packed"

    def test_other_models_and_unprotected_machines_are_untouched(self) -> None:
        inv = Invoice.objects.create()
        inv.status = "void"
        inv.save()
        assert Invoice.objects.get().status == "void"

    def test_protected_needs_a_model(self) -> None:
        with pytest.raises(ImproperlyConfigured) as info:

            class NoModel(StateMachine):
                class Meta:
                    name = "test-sm-protected-no-model"
                    protected = True
                    states = ["a", "b"]
                    transitions = [Transition("go", source="a", target="b")]

        assert info.value.args == (
            "NoModel: Meta.protected needs Meta.model (the model whose 'state' field to protect)",
        )
        assert "test-sm-protected-no-model" not in registry.machines


@pytest.mark.django_db(transaction=True)
def test_failing_handler_after_commit_is_logged_and_the_transition_stands(caplog) -> None:
    def broken(payload):
        raise RuntimeError("mailer down")

    default_bus.subscribe("ticket.close", broken)
    try:
        ticket = Ticket.objects.create()
        with caplog.at_level("ERROR", logger="django.db.backends.base"):
            assert TicketMachine().trigger(ticket, "close") == "closed"
    finally:
        default_bus.off("ticket.close", broken)
    assert Ticket.objects.get().status == "closed"
    assert StateTransitionAudit.objects.get().transition == "close"
    [record] = [r for r in caplog.records if r.name == "django.db.backends.base"]
    assert isinstance(record.exc_info[1], EventDispatchError)
    assert [str(e) for e in record.exc_info[1].exceptions] == ["mailer down"]


@pytest.mark.django_db(transaction=True)
def test_guards_of_a_model_trigger_run_inside_its_transaction() -> None:
    seen = []

    def record(entity, user):
        seen.append(connection.in_atomic_block)
        return True

    class InTx(StateMachine):
        class Meta:
            name = "test-sm-guard-in-transaction"
            states = ["open", "closed"]
            state_field = "status"
            audit = False
            transitions = [Transition("shut", source="open", target="closed", guards=[record])]

    ticket = Ticket.objects.create()
    InTx().trigger(ticket, "shut")
    InTx().check_transitions(Ticket.objects.create())  # a pure check: no transaction
    assert seen == [True, False]


@pytest.mark.django_db
def test_trigger_records_an_otel_span(spans) -> None:
    ticket = Ticket.objects.create()
    TicketMachine().trigger(ticket, "start")
    done = [s for s in spans.get_finished_spans() if s.name == "state_machine.trigger"]
    assert len(done) == 1
    assert dict(done[0].attributes) == {
        "machine": "test-sm-tickets",
        "transition": "start",
        "model": "testapp.ticket",
        "object_id": str(ticket.pk),
    }


def test_plain_object_trigger_records_an_otel_span(spans) -> None:
    OrderMachine().trigger(order(), "pay")
    done = [s for s in spans.get_finished_spans() if s.name == "state_machine.trigger"]
    assert len(done) == 1
    assert dict(done[0].attributes) == {
        "machine": "test-sm-orders",
        "transition": "pay",
        "model": "SimpleNamespace",
    }


# -- concurrency (PostgreSQL, real threads) --------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_triggers_exactly_one_succeeds() -> None:
    from tests.services import require_postgres_db

    require_postgres_db()
    for _ in range(5):
        ticket = Ticket.objects.create()
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def worker(pk=ticket.pk, barrier=barrier, outcomes=outcomes) -> None:
            try:
                mine = Ticket.objects.get(pk=pk)  # both read "open"
                barrier.wait()
                TicketMachine().trigger(mine, "start")
                outcomes.append("ok")
            except InvalidTransition:
                outcomes.append("invalid")
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

        assert sorted(outcomes) == ["invalid", "ok"]
        assert StateTransitionAudit.objects.filter(object_id=str(ticket.pk)).count() == 1
        assert Ticket.objects.get(pk=ticket.pk).status == "in_progress"
    assert connection.vendor == "postgresql"


def test_docs_page_examples_run() -> None:
    from tests.toolkit.patterns.docs_examples import run_page

    namespace = run_page("state_machine.md")
    assert namespace["order"].status == "paid"
