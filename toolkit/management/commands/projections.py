"""``manage.py projections``: operate a projection from the command line.

.. code-block:: text

    manage.py projections status [NAME]            segments, holders, leases, lag, health
    manage.py projections pause NAME               workers stop handling events
    manage.py projections resume NAME              go on; stopped segments retry at once
    manage.py projections rewind NAME --position N | --timestamp ISO [--yes]
    manage.py projections dead-letters NAME        the events it gave up on
    manage.py projections retry NAME ID|--all      apply dead letters again (once each)
    manage.py projections drop NAME ID|--all [--yes]

Each change is written to the ``toolkit.projections`` log with the operating-system user, the
command line's audit trail (the panel records its own actions with the acting user).
"""

from __future__ import annotations

import getpass
import logging
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from toolkit.eventsourcing.projections import (
    DeadLetterNotFound,
    dead_letters,
    drop_dead_letter,
    events_to_replay,
    pause_projection,
    projection_status,
    projection_statuses,
    resolve_position,
    resume_projection,
    retry_dead_letter,
    rewind_projection,
)
from toolkit.registry import RegistryError, projections

logger = logging.getLogger("toolkit.projections")


class Command(BaseCommand):
    help = "Pause, resume, rewind a projection; list, retry and drop its dead letters."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        status = actions.add_parser("status", help="Segments, holders, lag and health.")
        status.add_argument("name", nargs="?", default=None)
        for action in ("pause", "resume", "dead-letters"):
            actions.add_parser(action).add_argument("name")
        rewind = actions.add_parser("rewind", help="Replay from a position or a timestamp.")
        rewind.add_argument("name")
        target = rewind.add_mutually_exclusive_group(required=True)
        target.add_argument("--position", type=int)
        target.add_argument("--timestamp", help="ISO 8601, e.g. 2026-12-01T00:00:00+00:00")
        rewind.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        for action in ("retry", "drop"):
            sub = actions.add_parser(action)
            sub.add_argument("name")
            which = sub.add_mutually_exclusive_group(required=True)
            which.add_argument("id", nargs="?", type=int)
            which.add_argument("--all", action="store_true")
            sub.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options.get("name")
        if name is not None:
            try:
                projections.get(name)
            except RegistryError as exc:
                raise CommandError(str(exc)) from exc
        action = options["action"]
        getattr(self, "do_" + action.replace("-", "_"))(name, options)

    def _audit(self, action: str, name: str, **detail: Any) -> None:
        logger.warning(
            "projections %s %s by %s: %s", action, name, getpass.getuser(), detail or "-"
        )

    def _confirm(self, question: str, options: dict[str, Any]) -> None:
        if options.get("yes"):
            return
        if input(f"{question} [y/N] ").strip().lower() not in {"y", "yes"}:
            raise CommandError("Cancelled.")

    def do_status(self, name: str | None, options: dict[str, Any]) -> None:
        statuses = [projection_status(name)] if name else projection_statuses()
        for s in statuses:
            self.stdout.write(
                f"{s.name}: {s.health} status={s.status} position={s.position} head={s.head} "
                f"lag={s.lag} rate={s.rate:.1f}/s dead_letters={s.dead_letters} "
                f"gaps_skipped={s.gaps_skipped}"
            )
            for problem in s.problems:
                self.stdout.write(f"  ! {problem}")
            for seg in s.segments:
                lease = seg.lease_expires_at.isoformat() if seg.lease_expires_at else "-"
                retry = f" retry@{seg.retry_position} x{seg.attempts}" if seg.retry_position else ""
                self.stdout.write(
                    f"  segment {seg.segment}: position={seg.position} lag={seg.lag} "
                    f"holder={seg.owner or '-'} lease={lease}{retry}"
                    f"{' STOPPED' if seg.failed else ''}"
                )

    def do_pause(self, name: str, options: dict[str, Any]) -> None:
        pause_projection(name)
        self._audit("pause", name)
        self.stdout.write(f"Paused {name}.")

    def do_resume(self, name: str, options: dict[str, Any]) -> None:
        resume_projection(name)
        self._audit("resume", name)
        self.stdout.write(f"Resumed {name}.")

    def do_rewind(self, name: str, options: dict[str, Any]) -> None:
        timestamp: datetime | None = None
        if options["timestamp"] is not None:
            try:
                timestamp = parse_datetime(options["timestamp"])
            except ValueError:  # well formed but not a date: 2026-02-30, 25:61
                timestamp = None
            if timestamp is None or timestamp.tzinfo is None:
                raise CommandError(
                    f"--timestamp {options['timestamp']!r} is not an ISO 8601 date and time "
                    "with a UTC offset, e.g. 2026-12-01T00:00:00+00:00"
                )
        try:
            position = resolve_position(position=options["position"], timestamp=timestamp)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        replay = events_to_replay(name, position=position)
        self._confirm(
            f"Rewind {name} to position {position}: {replay} event(s) will be replayed.", options
        )
        result = rewind_projection(name, position=position)
        self._audit("rewind", name, position=position, replay=replay)
        self.stdout.write(
            f"Rewound {name} to position {result.position}: {result.replayed_now} event(s) "
            f"replayed now, {result.to_replay} left to the workers."
        )

    def do_dead_letters(self, name: str, options: dict[str, Any]) -> None:
        letters = dead_letters(name)
        if not letters:
            self.stdout.write(f"{name} has no dead letters.")
        for letter in letters:
            self.stdout.write(
                f"#{letter.pk} position={letter.position} {letter.event_type} "
                f"{letter.aggregate_id} attempts={letter.attempts}: {letter.error}"
            )

    def _targets(self, name: str, options: dict[str, Any]) -> list[int]:
        if options["all"]:
            return [letter.pk for letter in dead_letters(name)]
        return [options["id"]]

    def do_retry(self, name: str, options: dict[str, Any]) -> None:
        failed = 0
        for pk in self._targets(name, options):
            try:
                retry_dead_letter(name, pk)
            except DeadLetterNotFound as exc:
                raise CommandError(str(exc)) from exc
            except Exception as exc:
                failed += 1
                self.stderr.write(f"#{pk}: {type(exc).__name__}: {exc}")
                self._audit("retry", name, id=pk, error=str(exc))
            else:
                self._audit("retry", name, id=pk)
                self.stdout.write(f"#{pk}: applied.")
        if failed:
            raise CommandError(f"{failed} dead letter(s) of {name} failed again.")

    def do_drop(self, name: str, options: dict[str, Any]) -> None:
        targets = self._targets(name, options)
        self._confirm(
            f"Drop {len(targets)} dead letter(s) of {name} without applying them?", options
        )
        for pk in targets:
            try:
                drop_dead_letter(name, pk)
            except DeadLetterNotFound as exc:
                raise CommandError(str(exc)) from exc
            self._audit("drop", name, id=pk)
            self.stdout.write(f"#{pk}: dropped.")
