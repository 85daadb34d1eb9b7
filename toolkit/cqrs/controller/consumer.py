"""django-cqrs' ``dj_cqrs.controller.consumer``: apply a received payload to its replica."""

from __future__ import annotations

import copy
import logging
from typing import Any

from django.db import Error

from toolkit.cqrs.constants import SignalType
from toolkit.cqrs.dataclasses import TransportPayload
from toolkit.cqrs.exceptions import CqrsError

logger = logging.getLogger("toolkit.cqrs.consumer")


def consume(payload: TransportPayload) -> Any:
    """Consumer controller: apply ``payload`` (a copy of it) to its replica model.

    Returns what :func:`route_signal_to_replica_model` returns: truthy when the message is
    done with (a transport acknowledges it), falsy when it failed (a transport retries it).
    """
    payload = copy.deepcopy(payload)
    return route_signal_to_replica_model(
        payload.signal_type,
        payload.cqrs_id,
        payload.instance_data,
        previous_data=payload.previous_data,
        meta=payload.meta,
        queue=payload.queue,
    )


def route_signal_to_replica_model(
    signal_type: Any,
    cqrs_id: str,
    instance_data: dict[str, Any],
    previous_data: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
    queue: str | None = None,
) -> Any:
    """Route a signal to the replica model's ``cqrs_save`` / ``cqrs_delete``, as django-cqrs.

    Returns what the model returned (the replica instance, or ``True`` for a delete) when the
    message was applied; ``True`` when it was skipped on purpose (a SYNC for another queue of
    a ``CQRS_ONLY_DIRECT_SYNCS`` replica, or a revision the replica already has); ``None`` for
    an unknown signal type or CQRS_ID, a malformed payload, a database error or a refusal by
    the model (each logged). The revision store and gap reports are kept up to date, as for
    every message our consumers apply.
    """
    from toolkit.cqrs.conf import cqrs_settings
    from toolkit.cqrs.constants import Outcome
    from toolkit.cqrs.consumer import ReplicaRefused, apply_payload, last_replica_result
    from toolkit.cqrs.registries import ReplicaRegistry

    try:
        signal = SignalType(signal_type)
    except ValueError:
        logger.error('Bad signal type "%s" for CQRS_ID "%s".', signal_type, cqrs_id)
        return None
    model = ReplicaRegistry.get_model_by_cqrs_id(cqrs_id)
    if not model:
        return None
    if (
        signal is SignalType.SYNC
        and getattr(model, "CQRS_ONLY_DIRECT_SYNCS", False)
        and queue != cqrs_settings().queue
    ):
        return True
    pk_field = getattr(getattr(model, "_meta", None), "pk", None)
    pk_name = getattr(pk_field, "name", "id")
    instance_pk = instance_data.get(pk_name, instance_data.get("id"))
    payload = TransportPayload(
        signal,
        cqrs_id,
        instance_data,
        instance_pk,
        queue=queue,
        previous_data=previous_data,
        meta=meta,
    )
    last_replica_result.set(None)
    try:
        outcome = apply_payload(model, payload)
    except (Error, CqrsError, ReplicaRefused) as exc:
        logger.error(
            "%s\nCQRS %s error: pk = %s, cqrs_revision = %s (%s).",
            exc,
            signal.value,
            instance_pk,
            instance_data.get("cqrs_revision"),
            cqrs_id,
        )
        return None
    if outcome is Outcome.APPLIED:
        return last_replica_result.get()
    return True
