"""``manage.py seed_demo``: fill the demo database and print how to log in.

::

    python manage.py seed_demo                       # 200 orders, ~1500 cart events
    python manage.py seed_demo --orders 2000 --events 20000
    python manage.py seed_demo --if-empty            # what `make run` does
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from demo.shop.models import Order
from demo.shop.seeding import OPERATOR_PERMISSIONS, Seeder, ensure_user
from toolkit.eventsourcing.projections import catch_up
from toolkit.models import DomainEvent
from toolkit.patterns.plugin import get_plugin_registry

PANEL_URL = "http://127.0.0.1:8000/panel/"
ADMIN_URL = "http://127.0.0.1:8000/admin/"


def positive_int(value: str) -> int:
    """argparse type: a whole number ≥ 0, with the bad value in the message."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be 0 or more")
    return number


class Progress:
    """A progress bar on stderr: tqdm when installed (the ``demo`` extra), else plain text."""

    def __init__(self, total: int, *, enabled: bool, stream: Any) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.enabled = enabled
        self.stream = stream
        self._bar: Any = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                self._bar = None
            else:
                self._bar = tqdm(total=self.total, unit="step", file=stream, leave=True)

    def __call__(self, steps: int) -> None:
        self.done += steps
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(steps)
        elif self.done % 50 == 0 or self.done >= self.total:
            percent = min(100, self.done * 100 // self.total)
            bar = "#" * (percent // 4)
            self.stream.write(f"\r[{bar:<25}] {percent:3d}%")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            # The total is an estimate (cart sizes are random): end the bar full.
            self._bar.total = self._bar.n
            self._bar.refresh()
            self._bar.close()
        elif self.enabled:
            self.stream.write("\n")


class Command(BaseCommand):
    help = (
        "Fill the demo with orders (commands, transitions, undos, some failures), event-sourced "
        "carts with snapshots and old-version events, and the revenue projection; then print "
        "the panel URL and fresh passwords for 'admin' (superuser) and 'operator' (limited)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--orders", type=positive_int, default=200, help="orders to create (default 200)"
        )
        parser.add_argument(
            "--events",
            type=positive_int,
            default=1500,
            help="about how many cart events to store (default 1500)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="seed only when there are no orders yet (the users' passwords are reset anyway)",
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable data)")
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            admin, admin_password = ensure_user("admin", superuser=True)
            operator, operator_password = ensure_user(
                "operator", superuser=False, permissions=OPERATOR_PERMISSIONS
            )
        already = Order.objects.exists() or DomainEvent.objects.exists()
        if options["if_empty"] and already:
            self.stdout.write("The demo database has data already: nothing seeded (--if-empty).")
        else:
            self._seed(admin, operator, options)
        # The allocation demo (demo/allocation): only into an empty allocation database.
        call_command("seed_allocation", if_empty=True, stdout=self.stdout)
        # The replication demo (demo/replication): masters, their replicas, one dead letter.
        call_command("seed_replication", if_empty=True, stdout=self.stdout)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Control panel: {PANEL_URL}"))
        self.stdout.write(f"Django admin:  {ADMIN_URL}")
        self.stdout.write(f"  superuser  admin / {admin_password}")
        self.stdout.write(
            f"  staff      operator / {operator_password}  "
            "(may trigger transitions; no refunds, undo, plugin toggles or rebuilds)"
        )
        self.stdout.write("New passwords are made on every run of seed_demo.")

    def _seed(self, admin: Any, operator: Any, options: dict[str, Any]) -> None:
        started = time.perf_counter()
        # The plugins act while orders are paid: loyalty points, held payments.
        plugins = get_plugin_registry()
        plugins.sync()
        active = [m.name for m in plugins.list_plugins() if m.status == "active"]
        progress = Progress(
            options["orders"] + options["events"],
            enabled=not options["no_progress"] and options["verbosity"] > 0,
            # The raw stream under Django's OutputWrapper (sys.stderr, or call_command's
            # stderr=): the wrapper ends every write with a newline, which breaks a bar.
            stream=getattr(self.stderr, "_out", sys.stderr),
        )
        seeder = Seeder(
            admin=admin, operator=operator, rng=random.Random(options["seed"]), tick=progress
        )
        try:
            seeder.seed_orders(options["orders"])
            main_events = options["events"] * 95 // 100
            seeder.seed_carts(main_events)
            catch_up("revenue_per_day")
            # A few carts after the catch-up, so the projection page shows a lag.
            if options["events"]:
                seeder.seed_carts(options["events"] - main_events)
        finally:
            progress.close()
        report = seeder.report
        counts = report.counts
        failures = ", ".join(f"{n} {name}" for name, n in sorted(report.failures.items()))
        self.stdout.write(
            f"Seeded {counts['orders']} orders ({counts['transitions']} transitions, "
            f"{counts['commands']} commands, {counts['undos']} undos) and {counts['events']} "
            f"events in {counts['carts']} carts in {time.perf_counter() - started:.1f} s."
        )
        self.stdout.write(f"Failures on purpose: {failures or 'none'}.")
        self.stdout.write(f"Active plugins: {', '.join(active) or 'none'}.")
