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

import contextvars
import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, router, transaction

from toolkit.cqrs.constants import DeadLetterReason, Outcome, SignalType
from toolkit.cqrs.dataclasses import TransportPayload
from toolkit.cqrs.exceptions import MalformedMessage

logger = logging.getLogger("toolkit.cqrs.consumer")

#: The error the replica manager logged last in this context (quoted when the message is
#: dead-lettered). The manager sits above the consumer, so the variable lives here.
last_replica_error: contextvars.ContextVar[str] = contextvars.ContextVar(
    "last_replica_error", default=""
)

#: What the replica model's ``cqrs_save`` / ``cqrs_delete`` returned for the payload
#: ``apply_payload`` applied last in this context (``toolkit.cqrs.controller`` returns it).
last_replica_result: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "last_replica_result", default=None
)

#: Outcomes counted in this process (``stats[Outcome.DUPLICATE]``, ...), for logs and tests.
stats: Counter[str] = Counter()


class ReplicaRefused(Exception):
    """The replica's ``cqrs_save``/``cqrs_delete`` returned a falsy value: retry the message."""


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
    stored, note = storable_payload(payload)
    error = _text(error + note)
    logger.warning("CQRS message dead-lettered (%s): %s", reason.value, error)
    return CqrsDeadLetter.objects.create(
        payload=stored,
        cqrs_id=_text(cqrs_id)[:100],
        reason=reason.value,
        error=error,
        attempts=attempts,
    )


#: The key of a dead letter's payload kept as escaped JSON text (see :func:`storable_payload`).
ESCAPED_KEY = "toolkit_cqrs_escaped"


def _text(value: str) -> str:
    """``value`` without NUL characters (PostgreSQL text refuses them): ``\\x00`` instead."""
    return value.replace("\x00", "\\x00")


def storable_payload(payload: Any) -> tuple[Any, str]:
    """``payload`` as a JSON column on every database can hold it, and a note if escaped.

    PostgreSQL's ``jsonb`` refuses ``\\u0000`` and ``NaN``/``Infinity``, and bytes are no JSON
    at all. Such a payload is kept as ``{ESCAPED_KEY: text}``: the JSON text (``\\u0000`` and
    ``NaN`` spelt out), or for bytes their UTF-8 decoding with undecodable bytes and NUL
    written ``\\xNN``. :func:`replay_body` turns the JSON text back into the message.
    """
    if isinstance(payload, bytes | bytearray):
        try:
            plain = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            plain = None
        if plain is not None and "\x00" not in plain:
            return plain, ""
        decoded = bytes(payload).decode("utf-8", errors="backslashreplace")
        return {ESCAPED_KEY: _text(decoded), "encoding": "bytes"}, (
            " [body kept as escaped text: not storable as JSON]"
        )
    text: str | None
    try:
        text = json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError):
        text = None
    if text is not None and "\\u0000" not in text:
        return payload, ""
    escaped = json.dumps(payload, default=repr)  # NaN spelt "NaN", NUL spelt "\u0000"
    return {ESCAPED_KEY: escaped, "encoding": "json"}, (
        " [payload kept as escaped JSON text: it holds NUL, NaN or values JSON cannot hold]"
    )


def replay_body(stored: Any) -> Any:
    """The message body a dead letter's stored payload stands for (undoes the escaping)."""
    if isinstance(stored, dict) and ESCAPED_KEY in stored:
        return stored[ESCAPED_KEY]
    return stored


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
        raw = body if isinstance(body, bytes | bytearray) else _storable(body)
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
    explicit_policy = max_retries is not None or retry_delay is not None
    max_retries = settings.max_retries if max_retries is None else max_retries
    retry_delay = settings.retry_delay if retry_delay is None else retry_delay
    if payload.is_expired():
        dead_letter(
            payload.to_stored(),
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
            payload.to_stored(),
            DeadLetterReason.UNKNOWN_CQRS_ID,
            f"no replica model has CQRS_ID {payload.cqrs_id!r}; registered: {known}",
            cqrs_id=payload.cqrs_id,
        )
        return Outcome.DEAD_LETTER
    if (
        payload.signal_type is SignalType.SYNC
        and getattr(model, "CQRS_ONLY_DIRECT_SYNCS", False)
        and payload.queue != settings.queue
    ):
        # django-cqrs: such a replica applies only the SYNCs addressed to its own queue.
        stats[Outcome.OTHER_QUEUE] += 1
        return Outcome.OTHER_QUEUE
    try:
        outcome = apply_payload(model, payload)
    except MalformedMessage as exc:
        dead_letter(
            payload.to_stored(), DeadLetterReason.MALFORMED, str(exc), cqrs_id=payload.cqrs_id
        )
        return Outcome.DEAD_LETTER
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if explicit_policy:
            retry = payload.retries < max_retries
            delay = retry_delay
        else:
            # django-cqrs' hooks, bounded: a replica may stop retrying early, never go on for
            # ever (max_retries is an integer, so a poison message always ends up dead).
            retry = payload.retries < max_retries and bool(
                model.should_retry_cqrs(payload.retries, exc)
            )
            delay = float(model.get_cqrs_retry_delay(payload.retries))
        if not retry:
            dead_letter(
                payload.to_stored(),
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
            delay,
        )
        return Retry(delay=delay, error=error)
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


def fill_gap(cqrs_id: str, pk: str, revision: int, *, using: str) -> None:
    """A late revision arrived: take it out of the open gap that misses it.

    A gap row stands for the missing revisions ``expected .. received - 1``. The arrival of
    one narrows it from either end, or splits it in two (the second part keeps the first
    one's ``created_at``, so the grace period runs from the original gap); an empty gap is
    deleted. Called under the replica revision's row lock, so arrivals do not race.
    """
    from toolkit.cqrs.models import CqrsRevisionGap

    gaps = CqrsRevisionGap.objects.using(using)
    gap = gaps.filter(
        cqrs_id=cqrs_id, instance_pk=pk, expected__lte=revision, received__gt=revision
    ).first()
    if gap is None:
        return
    if gap.expected == revision and gap.received == revision + 1:
        gap.delete()
    elif gap.expected == revision:
        gaps.filter(pk=gap.pk).update(expected=revision + 1)
    elif gap.received == revision + 1:
        gaps.filter(pk=gap.pk).update(received=revision)
    else:
        upper = gaps.create(
            cqrs_id=cqrs_id, instance_pk=pk, expected=revision + 1, received=gap.received
        )
        gaps.filter(pk=upper.pk).update(created_at=gap.created_at)
        gaps.filter(pk=gap.pk).update(received=revision)


def reported_gaps(*, cqrs_id: str | None = None, now: Any = None) -> Any:
    """Revision gaps older than ``TOOLKIT["cqrs"]["gap_grace_period"]``: the ones to report."""
    from datetime import timedelta

    from django.utils import timezone

    from toolkit.cqrs.conf import cqrs_settings
    from toolkit.cqrs.models import CqrsRevisionGap

    cutoff = (now or timezone.now()) - timedelta(seconds=cqrs_settings().gap_grace_period)
    gaps = CqrsRevisionGap.objects.filter(created_at__lte=cutoff)
    return gaps if cqrs_id is None else gaps.filter(cqrs_id=cqrs_id)


def apply_payload(model: type[Any], payload: TransportPayload) -> Outcome:
    """Apply ``payload`` to replica ``model`` if its revision is newer, in one transaction."""
    from toolkit.cqrs.models import CqrsReplicaRevision, CqrsRevisionGap
    from toolkit.cqrs.utils import apply_transaction_query_timeout

    revision = payload.revision
    if revision is None:
        raise MalformedMessage("instance_data lacks an integer 'cqrs_revision'")
    # A RawReplicaMixin class is no model: its revisions live in the default database.
    using = router.db_for_write(model) if hasattr(model, "_meta") else DEFAULT_DB_ALIAS
    pk = str(payload.instance_pk)
    sync = payload.signal_type is SignalType.SYNC
    last_replica_error.set("")
    with transaction.atomic(using=using):
        apply_transaction_query_timeout(using)
        row, _ = (
            CqrsReplicaRevision.objects.using(using)
            .select_for_update()
            .get_or_create(cqrs_id=payload.cqrs_id, instance_pk=pk, defaults={"revision": -1})
        )
        held = row.revision
        # A SYNC is applied whatever its revision (django-cqrs): a resync is how an operator
        # repairs a replica, e.g. after the master's rows were restored from a backup.
        if not sync and revision <= held:
            outcome = Outcome.DUPLICATE if revision == held else Outcome.STALE
            logger.debug(
                "CQRS %s#%s r%d ignored (%s, held r%d)",
                payload.cqrs_id,
                pk,
                revision,
                outcome.value,
                held,
            )
            if outcome is Outcome.STALE:
                fill_gap(payload.cqrs_id, pk, revision, using=using)
            return outcome
        if held >= 0 and revision > held + 1:
            # Recorded now, reported (panel, status) only once it is older than the grace
            # period: after a redelivery the missing revisions often arrive moments later,
            # and each arrival narrows the gap (fill_gap) until it is gone.
            logger.info(
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
            done = model.cqrs_delete(payload.instance_data, meta=meta)
            row.deleted = True
        else:
            done = model.cqrs_save(
                payload.instance_data, previous_data=payload.previous_data, sync=sync, meta=meta
            )
            row.deleted = False
        if not done:
            cause = last_replica_error.get()
            # django-cqrs' contract: a falsy result (the manager logged a database or
            # validation error) is a failure, retried and then dead-lettered. Raising rolls
            # the revision back with it.
            raise ReplicaRefused(
                f"{model.__name__}.{'cqrs_delete' if row.deleted else 'cqrs_save'}() returned "
                f"{done!r} for {payload.cqrs_id}#{pk} r{revision}"
                + (f" ({cause})" if cause else "")
            )
        row.revision = revision
        row.save(update_fields=["revision", "deleted", "updated_at"])
    last_replica_result.set(done)
    return Outcome.APPLIED
