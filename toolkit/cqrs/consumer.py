"""Replica side: apply a message if its revision is newer, dead-letter what cannot be applied.

Every transport hands each message body to :func:`consume_body`, which never raises for bad
input: a malformed body, an unknown CQRS_ID or an expired message goes to
:class:`~toolkit.cqrs.models.CqrsDeadLetter` with its reason; a message whose application
raises is retried ``max_retries`` times ``retry_delay`` seconds apart, then dead-lettered.

Revisions (kept per (CQRS_ID, pk) in ``CqrsReplicaRevision``, which survives deletes):

* older than the one held → ignored (``stale``); equal → ignored (``duplicate``), except a
  SYNC, which re-applies the same revision to repair a replica;
* more than one ahead → applied, and the skipped range is logged and stored as a
  ``CqrsRevisionGap`` row.

Retries: :func:`try_consume` makes one attempt and returns :class:`Retry` instead of
sleeping, so the Kombu consumer keeps a failing message aside (unacknowledged) and goes on
with the next ones; :func:`consume` (in-process transport, replays) waits between attempts.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import router, transaction

from toolkit.cqrs.constants import DeadLetterReason, Outcome, SignalType
from toolkit.cqrs.dataclasses import TransportPayload
from toolkit.cqrs.exceptions import MalformedMessage

logger = logging.getLogger("toolkit.cqrs.consumer")

#: Outcomes counted in this process (``stats[Outcome.DUPLICATE]``, ...), for logs and tests.
stats: Counter[str] = Counter()


class ConsumeInterrupted(Exception):
    """Raised inside a retry wait when the consumer is asked to stop; the message is requeued."""


def dead_letter(
    payload: Any,
    reason: DeadLetterReason,
    error: str,
    *,
    cqrs_id: str = "",
    attempts: int = 1,
) -> Any:
    """Store a message the replica could not apply; return the ``CqrsDeadLetter`` row."""
    from toolkit.cqrs.models import CqrsDeadLetter

    stats[Outcome.DEAD_LETTER] += 1
    logger.warning("CQRS message dead-lettered (%s): %s", reason.value, error)
    return CqrsDeadLetter.objects.create(
        payload=payload, cqrs_id=cqrs_id[:100], reason=reason.value, error=error, attempts=attempts
    )


def parse_body(body: Any) -> TransportPayload:
    """Turn a raw body (bytes, str or dict) into a payload; raise ``MalformedMessage``."""
    data = body
    if isinstance(body, bytes | bytearray):
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessage(f"message body is not UTF-8: {exc}") from exc
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise MalformedMessage(f"message body is not JSON: {exc}") from exc
    payload = TransportPayload.from_message(data)
    if payload.revision is None:
        raise MalformedMessage(
            f"instance_data lacks an integer 'cqrs_revision': "
            f"{payload.instance_data.get('cqrs_revision')!r}"
        )
    return payload


def _storable(body: Any) -> Any:
    if isinstance(body, bytes | bytearray):
        return body.decode("utf-8", errors="replace")
    try:
        json.dumps(body)
    except (TypeError, ValueError):
        return repr(body)
    return body


def parse_or_dead_letter(body: Any) -> TransportPayload | None:
    """Parse a raw body; dead-letter it and return None when it is malformed."""
    try:
        return parse_body(body)
    except MalformedMessage as exc:
        raw = _storable(body)
        cqrs_id = raw.get("cqrs_id", "") if isinstance(raw, dict) else ""
        dead_letter(
            raw,
            DeadLetterReason.MALFORMED,
            str(exc),
            cqrs_id=cqrs_id if isinstance(cqrs_id, str) else "",
        )
        return None


def consume_body(
    body: Any,
    *,
    stop: threading.Event | None = None,
    max_retries: int | None = None,
    retry_delay: float | None = None,
) -> Outcome:
    """Parse and apply one message body; bad input is dead-lettered, never raised."""
    payload = parse_or_dead_letter(body)
    if payload is None:
        return Outcome.DEAD_LETTER
    return consume(payload, stop=stop, max_retries=max_retries, retry_delay=retry_delay)


@dataclass(frozen=True)
class Retry:
    """``try_consume`` failed but may retry: call it again with the payload in ``delay`` s."""

    delay: float
    error: str


def try_consume(
    payload: TransportPayload,
    *,
    max_retries: int | None = None,
    retry_delay: float | None = None,
) -> Outcome | Retry:
    """Make one attempt at applying ``payload``, without waiting.

    Returns the outcome (dead letters included), or :class:`Retry` when the attempt raised
    and ``payload.retries`` is below ``max_retries``; ``payload.retries`` is then already
    incremented, so the caller only has to call again after ``Retry.delay`` seconds. The
    Kombu consumer keeps such messages aside meanwhile and goes on with the others.
    """
    from toolkit.cqrs.conf import cqrs_settings
    from toolkit.cqrs.registries import ReplicaRegistry

    settings = cqrs_settings()
    max_retries = settings.max_retries if max_retries is None else max_retries
    retry_delay = settings.retry_delay if retry_delay is None else retry_delay
    if payload.is_expired():
        dead_letter(
            payload.to_dict(),
            DeadLetterReason.EXPIRED,
            f"message expired at {payload.expires.isoformat() if payload.expires else '?'}",
            cqrs_id=payload.cqrs_id,
        )
        return Outcome.DEAD_LETTER
    if payload.queue and payload.queue != settings.queue:
        logger.debug("CQRS message for queue %r skipped by %r", payload.queue, settings.queue)
        stats[Outcome.OTHER_QUEUE] += 1
        return Outcome.OTHER_QUEUE
    model = ReplicaRegistry.get_model_by_cqrs_id(payload.cqrs_id)
    if model is None:
        known = ", ".join(repr(i) for i in ReplicaRegistry.cqrs_ids()) or "none"
        dead_letter(
            payload.to_dict(),
            DeadLetterReason.UNKNOWN_CQRS_ID,
            f"no replica model has CQRS_ID {payload.cqrs_id!r}; registered: {known}",
            cqrs_id=payload.cqrs_id,
        )
        return Outcome.DEAD_LETTER
    try:
        outcome = apply_payload(model, payload)
    except MalformedMessage as exc:
        dead_letter(
            payload.to_dict(), DeadLetterReason.MALFORMED, str(exc), cqrs_id=payload.cqrs_id
        )
        return Outcome.DEAD_LETTER
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if payload.retries >= max_retries:
            dead_letter(
                payload.to_dict(),
                DeadLetterReason.FAILED,
                error,
                cqrs_id=payload.cqrs_id,
                attempts=payload.retries + 1,
            )
            return Outcome.DEAD_LETTER
        payload.retries += 1
        logger.info(
            "CQRS %s#%s failed (%s); retry %d/%d in %.2fs",
            payload.cqrs_id,
            payload.instance_pk,
            error,
            payload.retries,
            max_retries,
            retry_delay,
        )
        return Retry(delay=retry_delay, error=error)
    stats[outcome] += 1
    return outcome


def consume(
    payload: TransportPayload,
    *,
    stop: threading.Event | None = None,
    max_retries: int | None = None,
    retry_delay: float | None = None,
) -> Outcome:
    """Apply one payload, waiting between retries; dead-letter it when it cannot be applied.

    Used by the in-process transport. A set ``stop`` event interrupts a wait with
    :class:`ConsumeInterrupted` (the broker then keeps the message).
    """
    while True:
        result = try_consume(payload, max_retries=max_retries, retry_delay=retry_delay)
        if isinstance(result, Outcome):
            return result
        if stop is not None:
            if stop.wait(result.delay):
                raise ConsumeInterrupted(result.error)
        elif result.delay:
            time.sleep(result.delay)


def apply_payload(model: type[Any], payload: TransportPayload) -> Outcome:
    """Apply ``payload`` to replica ``model`` if its revision is newer, in one transaction."""
    from toolkit.cqrs.models import CqrsReplicaRevision, CqrsRevisionGap

    revision = payload.revision
    if revision is None:
        raise MalformedMessage("instance_data lacks an integer 'cqrs_revision'")
    using = router.db_for_write(model)
    pk = str(payload.instance_pk)
    sync = payload.signal_type is SignalType.SYNC
    with transaction.atomic(using=using):
        row, _ = (
            CqrsReplicaRevision.objects.using(using)
            .select_for_update()
            .get_or_create(cqrs_id=payload.cqrs_id, instance_pk=pk, defaults={"revision": -1})
        )
        held = row.revision
        if revision < held or (revision == held and not sync):
            outcome = Outcome.DUPLICATE if revision == held else Outcome.STALE
            logger.debug(
                "CQRS %s#%s r%d ignored (%s, held r%d)",
                payload.cqrs_id,
                pk,
                revision,
                outcome.value,
                held,
            )
            return outcome
        if held >= 0 and revision > held + 1:
            logger.warning(
                "CQRS revision gap on %s#%s: held r%d, received r%d",
                payload.cqrs_id,
                pk,
                held,
                revision,
            )
            CqrsRevisionGap.objects.using(using).create(
                cqrs_id=payload.cqrs_id, instance_pk=pk, expected=held + 1, received=revision
            )
        meta = payload.meta if model.CQRS_META else None
        if payload.signal_type is SignalType.DELETE:
            model.cqrs_delete(payload.instance_data, meta=meta)
            row.deleted = True
        else:
            model.cqrs_save(
                payload.instance_data, previous_data=payload.previous_data, sync=sync, meta=meta
            )
            row.deleted = False
        row.revision = revision
        row.save(update_fields=["revision", "deleted", "updated_at"])
    return Outcome.APPLIED
