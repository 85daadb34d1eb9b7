"""``manage.py cqrs_dead_letters list|replay|purge``: inspect, replay, clean the dead letters.

django-cqrs' sub-commands ``dump``, ``retry`` and ``purge`` keep its output (``dump``: each
dead message's body, one per line; ``retry``: ``Total dead letters: N``, then ``Retrying: i/N``
and the message for each; ``purge``: ``Total dead letters: N`` then ``Purged``), over the
toolkit's dead-letter table, so they work on both transports. ``list`` and ``replay`` are the
toolkit's own (a readable listing; a replay summary by outcome).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from toolkit.core.validation import MAX_INT
from toolkit.cqrs.exceptions import CqrsError
from toolkit.cqrs.management import at_least_one


class Command(BaseCommand):
    help = "List, replay or purge CQRS messages the replica could not apply."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="List dead letters (newest first).")
        listing.add_argument("--all", action="store_true", help="Include replayed ones.")
        listing.add_argument("--limit", type=int, default=50)
        dump = sub.add_parser("dump", help="Dumps all dead letter to stdout.")
        replay = sub.add_parser("replay", help="Replay dead letters; print a summary.")
        replay.add_argument("--all", action="store_true", help="Every letter not replayed.")
        retry = sub.add_parser("retry", help="Retry all dead letters.")
        purge = sub.add_parser(
            "purge", help="Removes all dead letters (replayed or not), or those of the filters."
        )
        for command in (replay, retry):
            command.add_argument("ids", nargs="*", type=int, help="Dead letter ids.")
        for command in (listing, dump, replay, retry, purge):
            command.add_argument("--cqrs-id")
            command.add_argument("--reason")

    def handle(self, *args: Any, **options: Any) -> None:
        from toolkit.cqrs.dead_letters import dead_letter_list, replay_dead_letters

        action = options["action"]
        if action == "list":
            at_least_one("--limit", options["limit"])
        bad_ids = [i for i in options.get("ids") or () if not 1 <= i <= MAX_INT]
        if bad_ids:
            raise CommandError(
                f"Dead letter ids are whole numbers from 1 to {MAX_INT}, not "
                + ", ".join(str(i) for i in bad_ids)
            )
        try:
            letters = dead_letter_list(
                cqrs_id=options.get("cqrs_id"),
                reason=options.get("reason"),
                include_replayed=action == "purge" or (action == "list" and options["all"]),
            )
        except CqrsError as exc:
            raise CommandError(str(exc)) from exc
        if action in ("replay", "retry") and options["ids"]:
            letters = letters.filter(pk__in=options["ids"])
            missing = set(options["ids"]) - set(letters.values_list("pk", flat=True))
            if missing:
                raise CommandError(
                    "No unreplayed dead letter with id(s): "
                    + ", ".join(str(i) for i in sorted(missing))
                )
        if action == "purge":
            self._purge(letters)
        elif action == "dump":
            self._dump(letters)
        elif action == "retry":
            self._retry(letters)
        elif action == "list":
            self._list(letters[: options["limit"]])
        else:
            if not options["ids"] and not options["all"]:
                raise CommandError("Give dead letter ids, or --all")
            counts = replay_dead_letters(letters)
            summary = ", ".join(f"{outcome.value}={n}" for outcome, n in sorted(counts.items()))
            self.stdout.write(f"Replayed: {summary or 'nothing to replay'}.")

    def _list(self, letters: Any) -> None:
        for letter in letters:
            replayed = letter.replayed_at.isoformat() if letter.replayed_at else "-"
            self.stdout.write(
                f"#{letter.pk} {letter.reason} {letter.cqrs_id or '?'} "
                f"attempts={letter.attempts} replayed={replayed} error={letter.error} "
                f"payload={json.dumps(letter.payload)[:200]}"
            )

    def _dump(self, letters: Any) -> None:
        """django-cqrs' ``dump``: each dead message's body, one per line, oldest first."""
        from toolkit.cqrs.consumer import replay_body

        for letter in letters.order_by("id").iterator():
            self.stdout.write(_body_text(replay_body(letter.payload)))

    def _retry(self, letters: Any) -> None:
        """django-cqrs' ``retry``: every dead letter once more, its message printed with
        ``retries`` at 0; a letter that fails again stays (``attempts`` + 1)."""
        from toolkit.cqrs.consumer import replay_body
        from toolkit.cqrs.dead_letters import replay_dead_letter

        pending = list(letters.order_by("id"))
        self.stdout.write(f"Total dead letters: {len(pending)}")
        for number, letter in enumerate(pending, start=1):
            self.stdout.write(f"Retrying: {number}/{len(pending)}")
            body = replay_body(letter.payload)
            replay_dead_letter(letter)
            if isinstance(body, dict):
                body = {**body, "retries": 0}
            self.stdout.write(_body_text(body))

    def _purge(self, letters: Any) -> None:
        """django-cqrs' ``purge`` output; the toolkit's filters choose which letters go."""
        count = letters.count()
        self.stdout.write(f"Total dead letters: {count}")
        if count > 0:
            letters.delete()
            self.stdout.write("Purged")


def _body_text(body: Any) -> str:
    """A message body as django-cqrs writes it: the JSON text, compact."""
    if isinstance(body, bytes | bytearray):
        return body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        return body
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
