"""``manage.py cqrs_dead_letters list|replay|purge``: inspect, replay, clean the dead letters.

``dump`` and ``retry`` (django-cqrs' names) are aliases of ``list`` and ``replay``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.cqrs.exceptions import CqrsError

#: django-cqrs' sub-command names, accepted as aliases of ours.
ALIASES = {"dump": "list", "retry": "replay"}


class Command(BaseCommand):
    help = "List, replay or purge CQRS messages the replica could not apply."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", aliases=["dump"], help="List dead letters (newest first).")
        listing.add_argument("--cqrs-id")
        listing.add_argument("--reason")
        listing.add_argument("--all", action="store_true", help="Include replayed ones.")
        listing.add_argument("--limit", type=int, default=50)
        replay = sub.add_parser("replay", aliases=["retry"], help="Replay dead letters.")
        replay.add_argument("ids", nargs="*", type=int, help="Dead letter ids.")
        replay.add_argument("--all", action="store_true", help="Every letter not replayed.")
        replay.add_argument("--cqrs-id")
        replay.add_argument("--reason")
        purge = sub.add_parser(
            "purge", help="Delete dead letters (replayed or not) of --cqrs-id / --reason, or all."
        )
        purge.add_argument("--cqrs-id")
        purge.add_argument("--reason")

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.dead_letters import dead_letter_list, replay_dead_letters

        action = ALIASES.get(options["action"], options["action"])
        try:
            letters = dead_letter_list(
                cqrs_id=options.get("cqrs_id"),
                reason=options.get("reason"),
                include_replayed=action == "purge" or (action == "list" and options["all"]),
            )
        except CqrsError as exc:
            raise CommandError(str(exc)) from exc
        if action == "purge":
            deleted, _ = letters.delete()
            self.stdout.write(f"Deleted {deleted} dead letter(s).")
            return
        if action == "list":
            for letter in letters[: options["limit"]]:
                replayed = letter.replayed_at.isoformat() if letter.replayed_at else "-"
                self.stdout.write(
                    f"#{letter.pk} {letter.reason} {letter.cqrs_id or '?'} "
                    f"attempts={letter.attempts} replayed={replayed} error={letter.error} "
                    f"payload={json.dumps(letter.payload)[:200]}"
                )
            return
        if options["ids"]:
            letters = letters.filter(pk__in=options["ids"])
            missing = set(options["ids"]) - set(letters.values_list("pk", flat=True))
            if missing:
                raise CommandError(
                    "No unreplayed dead letter with id(s): "
                    + ", ".join(str(i) for i in sorted(missing))
                )
        elif not options["all"]:
            raise CommandError("Give dead letter ids, or --all")
        counts = replay_dead_letters(letters)
        summary = ", ".join(f"{outcome.value}={n}" for outcome, n in sorted(counts.items()))
        self.stdout.write(f"Replayed: {summary or 'nothing to replay'}.")
