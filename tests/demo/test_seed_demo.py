"""``manage.py seed_demo``: data through the toolkit APIs, users with fresh passwords."""

from __future__ import annotations

import re
from io import StringIO

from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import TestCase

from demo.shop.models import DailyRevenue, LoyaltyEntry, Order
from toolkit.models import (
    CommandAuditLog,
    DomainEvent,
    EventStream,
    Snapshot,
    StateTransitionAudit,
)
from toolkit.patterns.plugin import reset_plugin_registry


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


def password_of(output: str, username: str) -> str:
    match = re.search(rf"{username} / (\S+)", output)
    assert match, output
    return match.group(1)


class SeedDemoTests(TestCase):
    def setUp(self) -> None:
        # Start from the entry-point plugins as a fresh process loads them, whatever another
        # test left in the process registry.
        reset_plugin_registry()

    def tearDown(self) -> None:
        # seed_demo activates the entry-point plugins of this process; leave them off.
        reset_plugin_registry()

    def test_small_seed_fills_every_area_through_the_toolkit(self) -> None:
        # Bus handlers (the loyalty plugin's) run after commit.
        with self.captureOnCommitCallbacks(execute=True):
            output = seed("--orders", "40", "--events", "200", "--seed", "7")
        assert Order.objects.count() <= 40
        assert Order.objects.exclude(status="pending").exists()
        assert StateTransitionAudit.objects.filter(model="shop.order").exists()
        assert CommandAuditLog.objects.filter(kind="execute", success=True).exists()
        assert CommandAuditLog.objects.filter(success=False).exists()  # failures on purpose
        assert DomainEvent.objects.count() >= 200
        assert DomainEvent.objects.filter(
            schema_version=1, event_type__endswith="ItemAdded"
        ).exists()
        assert EventStream.objects.filter(aggregate_type="ShoppingCart").exists()
        assert Snapshot.objects.exists()
        assert DailyRevenue.objects.exists()
        assert LoyaltyEntry.objects.exists(), output  # the loyalty plugin was active
        assert "Active plugins: fraud_screening, loyalty_points." in output
        assert "Control panel: http://127.0.0.1:8000/panel/" in output
        assert "Django admin:  http://127.0.0.1:8000/admin/" in output
        assert re.search(r"Seeded \d+ orders \(\d+ transitions", output)

    def test_users_get_new_random_passwords_every_run(self) -> None:
        first = seed("--orders", "0", "--events", "0")
        second = seed("--orders", "0", "--events", "0", "--if-empty")
        admin = User.objects.get(username="admin")
        operator = User.objects.get(username="operator")
        assert admin.is_superuser and admin.is_staff
        assert operator.is_staff and not operator.is_superuser
        assert password_of(first, "admin") != password_of(second, "admin")
        assert admin.check_password(password_of(second, "admin"))
        assert operator.check_password(password_of(second, "operator"))
        assert operator.has_perm("patterns_admin.trigger_transition")
        assert not operator.has_perm("patterns_admin.replay_events")
        assert not operator.has_perm("shop.refund_order")

    def test_if_empty_skips_a_seeded_database(self) -> None:
        seed("--orders", "5", "--events", "20", "--seed", "1")
        counts = (Order.objects.count(), DomainEvent.objects.count())
        output = seed("--if-empty")
        assert "nothing seeded (--if-empty)" in output
        assert (Order.objects.count(), DomainEvent.objects.count()) == counts

    def test_seeding_twice_adds_new_carts(self) -> None:
        seed("--orders", "0", "--events", "30", "--seed", "1")
        streams = EventStream.objects.count()
        seed("--orders", "0", "--events", "30", "--seed", "1")
        assert EventStream.objects.count() > streams

    def test_negative_size_is_refused_with_the_value(self) -> None:
        with self.assertRaises(CommandError) as ctx:
            call_command("seed_demo", "--orders", "-3", stdout=StringIO())
        assert "'-3' must be 0 or more" in str(ctx.exception)
        assert not Order.objects.exists()

    def test_progress_bar_on_stderr_ends_full(self) -> None:
        out, err = StringIO(), StringIO()
        call_command(
            "seed_demo", "--orders", "5", "--events", "20", "--seed", "3", stdout=out, stderr=err
        )
        bar = err.getvalue()
        assert "100%" in bar, bar
        assert "step" in bar  # tqdm's unit: the demo extra is installed here
        assert "admin / " in out.getvalue()

    def test_verbosity_zero_hides_the_progress_bar(self) -> None:
        err = StringIO()
        call_command(
            "seed_demo", "--orders", "2", "--events", "5", "-v", "0", stdout=StringIO(), stderr=err
        )
        assert err.getvalue() == ""


def test_progress_without_tqdm_draws_a_text_bar(monkeypatch) -> None:
    import builtins

    from demo.shop.management.commands.seed_demo import Progress

    real_import = builtins.__import__

    def no_tqdm(name: str, *args: object, **kwargs: object) -> object:
        if name == "tqdm":
            raise ImportError("No module named 'tqdm'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    stream = StringIO()
    progress = Progress(100, enabled=True, stream=stream)
    progress(50)
    progress(50)
    progress.close()
    assert stream.getvalue() == f"\r[{'#' * 12:<25}]  50%\r[{'#' * 25}] 100%\n"


def test_disabled_progress_writes_nothing() -> None:
    from demo.shop.management.commands.seed_demo import Progress

    stream = StringIO()
    progress = Progress(10, enabled=False, stream=stream)
    progress(10)
    progress.close()
    assert stream.getvalue() == ""
