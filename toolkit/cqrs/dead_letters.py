"""List and replay the dead-letter store (``cqrs_dead_letters``, the panel)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from toolkit.cqrs.constants import DeadLetterReason, Outcome
from toolkit.cqrs.exceptions import CqrsError


def dead_letter_list(
    *, cqrs_id: str | None = None, reason: str | None = None, include_replayed: bool = False
) -> QuerySet[Any]:
    """Dead letters, newest first; only those not replayed yet unless ``include_replayed``."""
    from toolkit.cqrs.models import CqrsDeadLetter

    if reason is not None and reason not in {r.value for r in DeadLetterReason}:
        valid = ", ".join(repr(r.value) for r in sorted(DeadLetterReason, key=str))
        raise CqrsError(f"Unknown dead-letter reason {reason!r}; valid reasons: {valid}")
    letters = CqrsDeadLetter.objects.order_by("-id")
    if cqrs_id is not None:
        letters = letters.filter(cqrs_id=cqrs_id)
    if reason is not None:
        letters = letters.filter(reason=reason)
    if not include_replayed:
        letters = letters.filter(replayed_at__isnull=True)
    return letters


def replay_dead_letter(letter: Any) -> Outcome:
    """Apply a dead letter's message once more, ignoring its expiry (an operator's decision).

    On success ``replayed_at`` is set and the consumer's outcome returned (``applied``, or
    ``duplicate``/``stale`` if a newer revision arrived meanwhile). On failure the row keeps
    its place with ``attempts`` + 1 and the new error, and ``dead_letter`` is returned.
    """
    from toolkit.cqrs.consumer import apply_payload, parse_body, replay_body
    from toolkit.cqrs.registries import ReplicaRegistry

    if letter.replayed_at is not None:
        raise CqrsError(
            f"dead letter #{letter.pk} was already replayed at {letter.replayed_at.isoformat()}"
        )
    try:
        payload = parse_body(replay_body(letter.payload))
        payload.expires = None
        model = ReplicaRegistry.get(payload.cqrs_id)
        outcome = apply_payload(model, payload)
    except Exception as exc:  # bad payload, unknown CQRS_ID, or the replica raised
        letter.attempts += 1
        letter.error = f"{type(exc).__name__}: {exc}"
        letter.save(update_fields=["attempts", "error"])
        return Outcome.DEAD_LETTER
    letter.replayed_at = timezone.now()
    letter.save(update_fields=["replayed_at"])
    return outcome


def replay_dead_letters(letters: QuerySet[Any]) -> dict[Outcome, int]:
    """Replay every not-yet-replayed letter of ``letters``; count the outcomes."""
    counts: dict[Outcome, int] = {}
    for letter in letters.filter(replayed_at__isnull=True).order_by("id"):
        outcome = replay_dead_letter(letter)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
