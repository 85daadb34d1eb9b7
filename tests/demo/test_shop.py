"""The demo shop: order machine guards and permissions, commands and undo, the cart
aggregate with snapshots and upcasting, the revenue projection, strategies, plugins."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.test import SimpleTestCase, TestCase

from demo.shop import screening
from demo.shop.carts import ITEM_ADDED, ShoppingCart, cart_repository
from demo.shop.commands import ApplyDiscountCommand, CreateOrderCommand, SendInvoiceCommand
from demo.shop.models import DailyRevenue, LoyaltyEntry, Order
from demo.shop.strategies import PricingStrategy, price
from toolkit.eventsourcing.projections import catch_up, events_to_replay
from toolkit.eventsourcing.schemas import SchemaRegistry
from toolkit.models import CommandAuditLog, DomainEvent, Snapshot
from toolkit.patterns.command import undo_from_audit
from toolkit.patterns.event_store import EventStore
from toolkit.patterns.exceptions import (
    GuardFailed,
    StrategyNotFound,
    TransitionNotPermitted,
    UndoNotSupported,
    ValidationError,
)
from toolkit.registry import aggregates, machine_for_model, machines, projections


def user_with(username: str, *perms: str) -> User:
    user = User.objects.create_user(username, password="pw")
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)


class OrderMachineTests(TestCase):
    def setUp(self) -> None:
        self.machine = machine_for_model(Order)
        self.clerk = user_with("clerk")

    def order(self, **fields: object) -> Order:
        defaults: dict[str, object] = {
            "customer": "Ada",
            "email": "ada@example.com",
            "total": Decimal("50.00"),
            "address": "1 Road",
        }
        return Order.objects.create(**{**defaults, **fields})

    def test_machine_is_registered_for_order(self) -> None:
        assert self.machine is machines.get("OrderMachine")
        assert self.machine.states == (
            "pending",
            "paid",
            "shipped",
            "delivered",
            "cancelled",
            "refunded",
        )

    def test_ship_without_address_is_blocked_with_explanation(self) -> None:
        order = self.order(status="paid", address="  ")
        with pytest.raises(GuardFailed) as exc:
            self.machine.trigger(order, "ship", user=self.clerk)
        assert exc.value.explanation == "cannot ship an order without an address"
        order.refresh_from_db()
        assert order.status == "paid"

    def test_cancel_over_1000_needs_a_manager(self) -> None:
        order = self.order(total=Decimal("1500.00"))
        checks = {c.transition.name: c for c in self.machine.check_transitions(order, self.clerk)}
        assert checks["cancel"].reason == "cannot cancel an order over 1000 without a manager"
        manager = user_with("manager", "shop.cancel_large_order")
        self.machine.trigger(order, "cancel", user=manager)
        assert Order.objects.get(pk=order.pk).status == "cancelled"

    def test_refund_needs_its_permission(self) -> None:
        order = self.order(status="delivered")
        with pytest.raises(TransitionNotPermitted) as exc:
            self.machine.trigger(order, "refund", user=self.clerk)
        assert str(exc.value) == "User clerk may not trigger 'refund' (needs 'shop.refund_order')"
        self.machine.trigger(order, "refund", user=user_with("lead", "shop.refund_order"))
        assert Order.objects.get(pk=order.pk).status == "refunded"

    def test_fraud_screening_holds_payment_only_while_active(self) -> None:
        order = self.order(total=Decimal("6000.00"), email="x@mail.test")
        screening.set_active("fraud_screening", True)
        try:
            with pytest.raises(GuardFailed) as exc:
                self.machine.trigger(order, "pay", user=self.clerk)
            assert exc.value.explanation == "payment held by fraud screening"
        finally:
            screening.set_active("fraud_screening", False)
        self.machine.trigger(order, "pay", user=self.clerk)
        assert order.status == "paid"

    def test_loyalty_points_are_awarded_on_pay_while_active(self) -> None:
        order = self.order(total=Decimal("123.45"))
        screening.set_active("loyalty_points", True)
        try:
            with self.captureOnCommitCallbacks(execute=True):
                self.machine.trigger(order, "pay", user=self.clerk)
        finally:
            screening.set_active("loyalty_points", False)
        assert LoyaltyEntry.objects.get().points == 123
        assert not screening.is_active("loyalty_points")


class CommandTests(TestCase):
    def test_create_order_prices_with_strategy_and_undo_deletes(self) -> None:
        command = CreateOrderCommand(
            customer="Ada", email="a@example.com", subtotal="1000", pricing="bulk"
        )
        order = command.execute()
        assert order.total == Decimal("950.00")
        undo_row = undo_from_audit(command.audit_log.pk)
        assert undo_row.undo_of_id == command.audit_log.pk
        assert not Order.objects.exists()

    def test_discount_undo_restores_total_from_the_audit_row(self) -> None:
        order = CreateOrderCommand(customer="Ada", email="a@example.com", subtotal="200").execute()
        command = ApplyDiscountCommand(order_id=order.pk, percent=10)
        command.execute()
        assert Order.objects.get(pk=order.pk).total == Decimal("180.00")
        undo_from_audit(command.audit_log.pk)  # rebuilt from the row, as in another process
        order.refresh_from_db()
        assert (order.total, order.discount_percent) == (Decimal("200.00"), 0)

    def test_bad_discount_is_refused_and_recorded_as_failed(self) -> None:
        order = CreateOrderCommand(customer="Ada", email="a@example.com", subtotal="200").execute()
        with pytest.raises(ValidationError) as exc:
            ApplyDiscountCommand(order_id=order.pk, percent=80).execute()
        assert str(exc.value) == "percent: 80 must be a whole number from 1 to 50"
        assert Order.objects.get(pk=order.pk).total == Decimal("200.00")
        failed = CommandAuditLog.objects.get(success=False)
        assert failed.error == "ValidationError: percent: 80 must be a whole number from 1 to 50"

    def test_send_invoice_is_not_undoable(self) -> None:
        order = CreateOrderCommand(customer="Ada", email="a@example.com", subtotal="20").execute()
        command = SendInvoiceCommand(order_id=order.pk)
        assert command.execute()["sent_to"] == "a@example.com"
        assert command.audit_log.undoable is False
        with pytest.raises(UndoNotSupported):
            undo_from_audit(command.audit_log.pk)

    def test_unknown_pricing_strategy_lists_the_choices(self) -> None:
        with pytest.raises(StrategyNotFound) as exc:
            price(Decimal("1"), "fast")
        assert (
            str(exc.value)
            == "'fast' is not a PricingStrategy; available: 'bulk', 'member', 'standard'"
        )
        assert price(Decimal("100"), "member") == Decimal("95.00")
        assert PricingStrategy.resolve("standard")().execute(Decimal("1.005")) == Decimal("1.01")


class CartTests(TestCase):
    def test_cart_is_registered_and_snapshotted_every_10_events(self) -> None:
        assert aggregates.get("ShoppingCart") is ShoppingCart
        repo = cart_repository()
        cart = ShoppingCart.open("c-1", "Ada")
        repo.save(cart)
        for i in range(9):
            cart.add_item(f"S{i}", 1, "2.50")
            repo.save(cart)
        assert list(Snapshot.objects.values_list("sequence", flat=True)) == [10]
        loaded = repo.get("c-1")
        assert (loaded.version, loaded.total) == (10, "22.50")

    def test_v1_item_added_is_upcast_on_load(self) -> None:
        legacy = EventStore(schemas=SchemaRegistry())
        legacy.append_batch(
            "c-old",
            "ShoppingCart",
            [
                ("ShoppingCart.Opened", {"customer": "Ada"}),
                (ITEM_ADDED, {"sku": "A", "qty": 2, "price": "3.00"}),
            ],
            0,
        )
        assert DomainEvent.objects.get(sequence=2).schema_version == 1
        cart = cart_repository().get("c-old")
        assert cart.items == {"A": {"quantity": 2, "unit_price": "3.00"}}
        cart.add_item("A", 1, "3.00")
        cart_repository().save(cart)
        assert DomainEvent.objects.get(aggregate_id="c-old", sequence=3).schema_version == 2

    def test_closed_or_empty_cart_refuses_changes(self) -> None:
        cart = ShoppingCart.open("c-2", "Ada")
        with pytest.raises(ValidationError) as exc:
            cart.check_out()
        assert str(exc.value) == "cannot check out cart 'c-2': it is empty"
        cart.add_item("A", 1, "1.00")
        cart.check_out()
        with pytest.raises(ValidationError) as exc:
            cart.add_item("A", 1, "1.00")
        assert str(exc.value) == "cannot add to cart 'c-2': it is checked_out"

    def test_revenue_projection_counts_checked_out_carts(self) -> None:
        assert "revenue_per_day" in projections
        repo = cart_repository()
        for i, amount in enumerate(("10.00", "5.50")):
            cart = ShoppingCart.open(f"c-{i}", "Ada")
            cart.add_item("A", 1, amount)
            cart.check_out()
            repo.save(cart)
        assert events_to_replay("revenue_per_day") == 2
        catch_up("revenue_per_day")
        row = DailyRevenue.objects.get()
        assert (row.carts, row.revenue) == (2, Decimal("15.50"))


class PluginTests(SimpleTestCase):
    def test_plugins_switch_their_behaviour_on_and_off(self) -> None:
        from demo.plugins import FraudScreeningPlugin, LoyaltyPointsPlugin

        for plugin_class in (FraudScreeningPlugin, LoyaltyPointsPlugin):
            plugin = plugin_class()
            plugin.activate()
            assert screening.is_active(plugin_class.name)
            plugin.deactivate()
            assert not screening.is_active(plugin_class.name)
        assert (LoyaltyPointsPlugin.version, FraudScreeningPlugin.version) == ("1.2.0", "0.9.1")
