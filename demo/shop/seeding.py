"""Realistic demo data, made through the toolkit's own APIs (used by ``seed_demo``).

Orders are created and changed with commands and state-machine triggers, so every row has
its audit trail; carts are event-sourced aggregates saved through the repository (snapshots
included); a few operations fail on purpose (guards, permissions, bad input), as they do in
real life, so the panel has something to explain.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.utils import timezone

from demo.shop.carts import ITEM_ADDED, ShoppingCart, cart_repository
from demo.shop.commands import ApplyDiscountCommand, CreateOrderCommand, SendInvoiceCommand
from demo.shop.machines import OrderMachine
from toolkit.eventsourcing.schemas import SchemaRegistry
from toolkit.models import EventStream
from toolkit.patterns.command import undo_from_audit
from toolkit.patterns.event_store import EventStore
from toolkit.patterns.exceptions import PatternError
from toolkit.registry import machines

FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Barbara",
    "Ken",
    "Margaret",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "John",
    "Katherine",
    "Tim",
    "Hedy",
    "Donald",
    "Sophie",
    "Guido",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Liskov",
    "Thompson",
    "Hamilton",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Backus",
    "Johnson",
    "Berners-Lee",
    "Lamarr",
    "Knuth",
    "Wilson",
    "van Rossum",
]
DOMAINS = ["example.com", "example.org", "mail.test", "shop.test", "corp.test"]
STREETS = ["Analytical Way", "Enigma Road", "Compiler Street", "Kernel Lane", "Lambda Court"]
PRICING = ["standard"] * 6 + ["member"] * 3 + ["bulk"]
SKUS = {
    "KB-101": "49.90",
    "MS-220": "19.99",
    "HD-512": "89.00",
    "CB-USB": "7.50",
    "MN-27Q": "299.00",
    "DK-DOCK": "129.00",
    "LP-STD": "35.00",
    "HS-PRO": "149.00",
    "CH-ERG": "420.00",
    "LMP-LED": "24.90",
    "MC-4K": "79.00",
    "SSD-2T": "159.00",
}
#: Lifecycle paths: the final state an order should reach, with its weight.
PATHS: list[tuple[tuple[str, ...], int]] = [
    ((), 15),
    (("pay",), 20),
    (("pay", "ship"), 15),
    (("pay", "ship", "deliver"), 30),
    (("cancel",), 6),
    (("pay", "cancel"), 4),
    (("pay", "refund"), 4),
    (("pay", "ship", "deliver", "refund"), 6),
]
#: Permissions of the limited staff user: read the panel, trigger transitions, see orders.
OPERATOR_PERMISSIONS = [
    # Reads every area but CQRS, without sensitive fields: the demo shows a refusal and masking.
    ("patterns_admin", "view_audit"),
    ("patterns_admin", "view_commands"),
    ("patterns_admin", "view_streams"),
    ("patterns_admin", "view_projections"),
    ("patterns_admin", "trigger_transition"),
    ("shop", "view_order"),
    ("shop", "change_order"),
]


@dataclass
class SeedReport:
    """What a seeding run did, counted by kind."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)

    def failed(self, exc: BaseException) -> None:
        self.failures[type(exc).__name__] += 1


def ensure_user(
    username: str, *, superuser: bool, permissions: list[tuple[str, str]] | None = None
) -> tuple[User, str]:
    """Create or reset the staff user ``username`` with a new random password; return both."""
    password = secrets.token_urlsafe(12)
    user, _ = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com"}
    )
    user.is_staff = True
    user.is_active = True
    user.is_superuser = superuser
    user.set_password(password)
    user.save()
    if permissions:
        perms = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in permissions
        ]
        user.user_permissions.set(perms)
    return user, password


class Seeder:
    """Seeds orders and carts with a seeded random generator (same seed, same data)."""

    def __init__(
        self,
        *,
        admin: User,
        operator: User,
        rng: random.Random,
        tick: Callable[[int], Any] = lambda n: None,
    ) -> None:
        self.admin = admin
        self.operator = operator
        self.rng = rng
        self.tick = tick
        self.report = SeedReport()
        self.machine = machines.get(OrderMachine.name)
        self.now = timezone.now()
        # Continue after the carts of earlier runs: stream ids are unique.
        self.cart_number = EventStream.objects.filter(
            aggregate_type=ShoppingCart.aggregate_type
        ).count()

    # -- orders ------------------------------------------------------------------------

    def _customer(self) -> tuple[str, str]:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        domain = self.rng.choice(DOMAINS)
        return f"{first} {last}", f"{first}.{last}".lower().replace(" ", "") + f"@{domain}"

    def _subtotal(self) -> Decimal:
        roll = self.rng.random()
        if roll < 0.04:
            value = self.rng.uniform(5000, 9000)  # large: fraud screening territory
        elif roll < 0.15:
            value = self.rng.uniform(1000, 3000)  # over the cancel limit
        else:
            value = self.rng.uniform(8, 900)
        return Decimal(str(round(value, 2)))

    def _try(self, func: Callable[[], Any], kind: str) -> Any:
        try:
            result = func()
        except PatternError as exc:
            self.report.failed(exc)
            return None
        self.report.counts[kind] += 1
        return result

    @staticmethod
    def _execute(command: Any, user: User) -> Any:
        # execute(user=...) is added by Command's wrapper, not by each subclass's signature.
        return command.execute(user=user)

    def seed_orders(self, count: int, *, chunk: int = 25) -> None:
        """Create ``count`` orders and walk each through its lifecycle."""
        for start in range(0, count, chunk):
            with transaction.atomic():
                for _ in range(min(chunk, count - start)):
                    self._one_order()
                    self.tick(1)

    def _one_order(self) -> None:
        rng = self.rng
        customer, email = self._customer()
        address = "" if rng.random() < 0.08 else f"{rng.randint(1, 200)} {rng.choice(STREETS)}"
        placed = self.now - timedelta(minutes=rng.randint(0, 60 * 24 * 45))
        actor = rng.choice([self.admin, self.operator])
        create = CreateOrderCommand(
            customer=customer,
            email=email,
            subtotal=str(self._subtotal()),
            address=address,
            pricing=rng.choice(PRICING),
            placed_at=placed.isoformat(),
        )
        order = self._try(lambda: self._execute(create, actor), "commands")
        if order is None:
            return
        self.report.counts["orders"] += 1
        if rng.random() < 0.2:
            discount = ApplyDiscountCommand(order_id=order.pk, percent=rng.choice([5, 10, 15, 20]))
            if self._try(lambda: self._execute(discount, actor), "commands") and rng.random() < 0.3:
                log = discount.audit_log
                assert log is not None
                self._try(lambda: undo_from_audit(log.pk, user=self.admin), "undos")
        if rng.random() < 0.03:
            bad = ApplyDiscountCommand(order_id=order.pk, percent=rng.choice([75, 90]))
            self._try(lambda: self._execute(bad, actor), "commands")
        path = rng.choices([p for p, _ in PATHS], weights=[w for _, w in PATHS])[0]
        if not path and rng.random() < 0.1:
            created = create.audit_log
            assert created is not None
            self._try(lambda: undo_from_audit(created.pk, user=self.admin), "undos")
            return
        order.refresh_from_db()
        for name in path:
            # The operator may not refund: some refunds fail with TransitionNotPermitted.
            staff = [self.admin, self.admin, self.operator] if name == "refund" else None
            user = rng.choice(staff or [self.admin, self.operator])
            reason = rng.choice(["", "", "customer called", "warehouse confirmed", "per policy"])
            moved = self._try(
                partial(self.machine.trigger, order, name, user=user, reason=reason), "transitions"
            )
            if moved is None:
                break
        if order.status in ("paid", "shipped", "delivered") and rng.random() < 0.3:
            invoice = SendInvoiceCommand(order_id=order.pk)
            self._try(lambda: self._execute(invoice, actor), "commands")

    # -- carts -------------------------------------------------------------------------

    def seed_carts(self, events: int) -> None:
        """Open, fill and close carts until about ``events`` events are stored."""
        repo = cart_repository()
        legacy_store = EventStore(schemas=SchemaRegistry())  # as written before v2 existed
        written = 0
        while written < events:
            self.cart_number += 1
            number = self.cart_number
            cart_id = f"cart-{number:05d}"
            if number % 9 == 0:
                written += self._legacy_cart(legacy_store, repo, cart_id)
            else:
                written += self._cart(repo, cart_id)
            self.report.counts["carts"] += 1
        self.report.counts["events"] += written

    def _cart(self, repo: Any, cart_id: str) -> int:
        rng = self.rng
        customer, _ = self._customer()
        cart = ShoppingCart.open(cart_id, customer)
        written = len(repo.save(cart))
        lines = rng.choice([1, 2, 2, 3, 3, 4, 5, 6, 8, 12, 14])
        for _ in range(lines):
            sku = rng.choice(list(SKUS))
            cart.add_item(sku, rng.randint(1, 3), SKUS[sku])
            written += len(repo.save(cart))
            self.tick(1)
        if lines > 2 and rng.random() < 0.3:
            cart.remove_item(rng.choice(sorted(cart.items)))
            written += len(repo.save(cart))
        ending = rng.random()
        if ending < 0.7:
            cart.check_out()
        elif ending < 0.85:
            cart.abandon()
        if cart.pending_events:
            written += len(repo.save(cart))
        if rng.random() < 0.05:
            self._try(lambda: cart.add_item("KB-101", 1, SKUS["KB-101"]), "cart_changes")
        self.tick(1)
        return written

    def _legacy_cart(self, store: EventStore, repo: Any, cart_id: str) -> int:
        """A cart whose items were stored with the v1 ``ItemAdded`` payload (``qty``/``price``)."""
        customer, _ = self._customer()
        batch: list[tuple[str, dict[str, Any]]] = [("ShoppingCart.Opened", {"customer": customer})]
        for _ in range(self.rng.randint(1, 4)):
            sku = self.rng.choice(list(SKUS))
            batch.append(
                (ITEM_ADDED, {"sku": sku, "qty": self.rng.randint(1, 3), "price": SKUS[sku]})
            )
        written = len(store.append_batch(cart_id, ShoppingCart.aggregate_type, batch, 0))
        # Loaded through the upcaster: the v1 items read as v2, then the cart is closed.
        cart = repo.get(cart_id)
        if cart is not None and self.rng.random() < 0.8:
            cart.check_out()
            written += len(repo.save(cart))
        self.tick(written)
        return written
