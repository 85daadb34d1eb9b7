"""Master side: write messages to the outbox in the transaction, publish them after commit.

One transaction keeps one buffer per database connection, keyed by (CQRS_ID, pk):

* the first save of an existing row in the transaction bumps its ``cqrs_revision``; later
  saves do not, so the one message sent carries exactly one new revision;
* every save rewrites the instance's single outbox row (one message per instance per
  transaction, with the final state; ``previous_data`` keeps the values from before the
  transaction);
* deleting a row created in the same transaction drops its outbox row, so nothing is sent
  for it; deleting a row that existed before sends a DELETE with the next revision;
* ``transaction.on_commit`` publishes the rows and deletes those the transport accepted.
  Rows the transport refused stay in the outbox ("pending"), with the error, until
  :func:`publish_pending` (``cqrs_sync --pending``) sends them.

A rollback removes the outbox rows with the data; the buffer notices that its commit hook
is gone and starts afresh.
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from toolkit.cqrs.constants import REVISION_FIELD, UPDATED_FIELD, SignalType
from toolkit.cqrs.dataclasses import TransportPayload

logger = logging.getLogger("toolkit.cqrs.producer")

_BUFFER_ATTR = "_toolkit_cqrs_buffer"


def _noop() -> None:
    """An on-commit marker: Django drops it if the savepoint it was registered in rolls back."""


@dataclass
class _Entry:
    outbox_id: int | None = None
    created: bool = False
    bumped: bool = False
    previous_data: dict[str, Any] | None = None
    #: Set when the bump happened inside a savepoint: the marker registered there.
    bump_marker: Any = None

    def bump_stands(self, using: str) -> bool:
        """Whether the revision bump of this transaction is still in the database."""
        if not self.bumped:
            return False
        if self.bump_marker is None:
            return True
        connection = transaction.get_connection(using)
        return any(item[1] is self.bump_marker for item in connection.run_on_commit)

    def mark_bumped(self, marker: Any) -> None:
        self.bumped = True
        self.bump_marker = marker


@dataclass
class _Buffer:
    using: str
    entries: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    instances: list[weakref.ref[Any]] = field(default_factory=list)
    flushed: bool = False

    def flush(self) -> None:
        self.flushed = True
        for ref in self.instances:
            instance = ref()
            if instance is not None:
                instance.reset_cqrs_saves_count()
        ids = [e.outbox_id for e in self.entries.values() if e.outbox_id is not None]
        if ids:
            publish_rows(ids, using=self.using)


def _key(instance: Any) -> tuple[str, str]:
    return (str(instance.CQRS_ID), str(instance.pk))


def _buffer(using: str) -> _Buffer | None:
    """The current transaction's buffer (created on demand), or None in autocommit."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        return None
    buffer: _Buffer | None = getattr(connection, _BUFFER_ATTR, None)
    if buffer is not None and (
        buffer.flushed or not any(item[1] == buffer.flush for item in connection.run_on_commit)
    ):
        buffer = None  # committed, rolled back, or its savepoint was rolled back
    if buffer is None:
        buffer = _Buffer(using)
        setattr(connection, _BUFFER_ATTR, buffer)
        transaction.on_commit(buffer.flush, using=using, robust=True)
    return buffer


def _savepoint_marker(using: str) -> Any:
    """A fresh marker registered on commit when inside a savepoint, else None.

    A bump made in a savepoint that is later rolled back is gone from the database, and so
    is the marker from ``run_on_commit``: the next save in the transaction then bumps again
    instead of sending the old revision (which the replicas would ignore as a duplicate).
    """
    if not transaction.get_connection(using).savepoint_ids:
        return None
    marker = functools.partial(_noop)
    transaction.on_commit(marker, using=using)
    return marker


def claim_revision_bump(instance: Any, *, using: str) -> bool:
    """Whether this save must bump the instance's revision (first save in the transaction)."""
    buffer = _buffer(using)
    if buffer is None:
        return True
    entry = buffer.entries.setdefault(_key(instance), _Entry())
    if entry.bump_stands(using):
        return False
    entry.mark_bumped(_savepoint_marker(using))
    return True


def claim_revision_bumps(model: type[Any], pks: Iterable[Any], *, using: str) -> list[Any]:
    """The ``pks`` whose revision a bulk update must bump (not bumped yet in the transaction)."""
    buffer = _buffer(using)
    if buffer is None:
        return list(pks)
    result = []
    marker: Any = None
    for pk in pks:
        entry = buffer.entries.setdefault((str(model.CQRS_ID), str(pk)), _Entry())
        if not entry.bump_stands(using):
            if marker is None:
                marker = _savepoint_marker(using) or False
            entry.mark_bumped(marker or None)
            result.append(pk)
    return result


def _json_ready_value(value: Any) -> Any:
    """A pk as JSON can carry it (a UUID pk becomes its string, as django-cqrs sends it)."""
    return value if isinstance(value, int | str) else str(value)


def _expires() -> Any:
    from toolkit.cqrs.utils import get_message_expiration_dt

    return get_message_expiration_dt()


def _correlation_id(
    signal_type: SignalType, cqrs_id: str, instance_pk: Any, queue: str | None
) -> str | None:
    """:func:`toolkit.cqrs.correlation.get_correlation_id`, as a string (or None)."""
    from toolkit.cqrs.correlation import get_correlation_id

    value = get_correlation_id(signal_type, cqrs_id, instance_pk, queue)
    return None if value is None else str(value)


def _write(
    buffer: _Buffer | None,
    key: tuple[str, str],
    payload: TransportPayload,
    *,
    using: str,
    created: bool,
) -> None:
    from toolkit.cqrs.models import CqrsOutbox

    row_values = {
        "signal_type": payload.signal_type.value,
        "revision": payload.revision,
        "payload": payload.to_stored(),
    }
    if buffer is None:
        row = CqrsOutbox.objects.using(using).create(
            cqrs_id=key[0], instance_pk=key[1], **row_values
        )
        publish_rows([row.pk], using=using)
        return
    entry = buffer.entries.setdefault(key, _Entry())
    entry.created = entry.created or created
    entry.bumped = entry.bumped or created  # a new row starts at revision 0 for its replicas
    if entry.outbox_id is not None:
        updated = CqrsOutbox.objects.using(using).filter(pk=entry.outbox_id).update(**row_values)
        if updated:
            return
    row = CqrsOutbox.objects.using(using).create(cqrs_id=key[0], instance_pk=key[1], **row_values)
    entry.outbox_id = row.pk


def serialized_at_publish(model: Any, signal_type: SignalType | str) -> bool:
    """Whether a message's ``instance_data`` is made when it is published, not at save.

    django-cqrs serialises a model with ``CQRS_SERIALIZER`` on commit, reading the instance
    again through ``relate_cqrs_serialization``, so what the transaction did after the save
    (related rows added, a queryset ``update()``) reaches the replicas. The outbox row written
    at save keeps the revision; :func:`publish_rows` serialises the committed instance.
    """
    return bool(getattr(model, "CQRS_SERIALIZER", None)) and signal_type == SignalType.SAVE


def _save_payload(
    instance: Any,
    signal_type: SignalType,
    *,
    using: str,
    previous: dict[str, Any] | None,
    queue: str | None = None,
) -> TransportPayload:
    meta: dict[str, Any] | None
    if serialized_at_publish(instance, signal_type):
        # A placeholder until publish_rows serialises the committed instance: the revision
        # (which orders the outbox and the replicas) and the pk, nothing the serializer makes.
        # The revision may still be F() + 1 here (post_save runs before save() reads it back).
        instance._refresh_f_expr_values(using)
        instance_data = {
            instance._meta.pk.attname: _json_ready_value(instance.pk),
            REVISION_FIELD: getattr(instance, REVISION_FIELD),
            UPDATED_FIELD: str(getattr(instance, UPDATED_FIELD)),
        }
        meta = None
    else:
        instance_data = instance.to_cqrs_dict(using=using, sync=signal_type is SignalType.SYNC)
        meta = instance.get_cqrs_meta(
            instance_data=instance_data, previous_data=previous, signal_type=signal_type
        )
    return TransportPayload(
        signal_type=signal_type,
        cqrs_id=str(instance.CQRS_ID),
        instance_data=instance_data,
        instance_pk=instance_data.get(instance._meta.pk.attname, instance.pk),
        queue=queue,
        previous_data=previous,
        correlation_id=_correlation_id(signal_type, str(instance.CQRS_ID), instance.pk, queue),
        expires=_expires(),
        meta=meta,
    )


def enqueue(
    instance: Any,
    signal_type: SignalType,
    *,
    using: str,
    created: bool = False,
    queue: str | None = None,
) -> None:
    """Write (or rewrite) the instance's outbox row; it is published after commit."""
    key = _key(instance)
    buffer = _buffer(using)
    entry = buffer.entries.get(key) if buffer else None
    previous = instance.get_tracked_fields_data()
    if entry is not None and entry.outbox_id is not None and entry.previous_data is not None:
        previous = {**(previous or {}), **entry.previous_data}
    if entry is not None:
        entry.previous_data = previous
    payload = _save_payload(instance, signal_type, using=using, previous=previous, queue=queue)
    _write(buffer, key, payload, using=using, created=created)
    if buffer is not None:
        buffer.entries[key].previous_data = previous
        buffer.instances.append(weakref.ref(instance))
    instance._snapshot_tracked_fields()


def enqueue_many(instances: list[Any], *, using: str, created: bool) -> None:
    """``enqueue`` a SAVE for each instance of a bulk write, inserting new outbox rows at once.

    Instances that already have an outbox row in this transaction are rewritten one by one.
    """
    from django.db import connections

    from toolkit.cqrs.models import CqrsOutbox

    buffer = _buffer(using)
    # Without ids back from a bulk insert the buffer cannot point at the rows: go one by one.
    if buffer is None or not connections[using].features.can_return_rows_from_bulk_insert:
        for instance in instances:
            enqueue(instance, SignalType.SAVE, using=using, created=created)
        return
    fresh: list[tuple[Any, dict[str, Any] | None, CqrsOutbox]] = []
    for instance in instances:
        entry = buffer.entries.get(_key(instance))
        if entry is not None and entry.outbox_id is not None:
            enqueue(instance, SignalType.SAVE, using=using, created=created)
            continue
        previous = instance.get_tracked_fields_data()
        payload = _save_payload(instance, SignalType.SAVE, using=using, previous=previous)
        row = CqrsOutbox(
            cqrs_id=payload.cqrs_id,
            instance_pk=str(instance.pk),
            signal_type=payload.signal_type.value,
            revision=payload.revision,
            payload=payload.to_stored(),
        )
        fresh.append((instance, previous, row))
    rows = CqrsOutbox.objects.using(using).bulk_create([row for _, _, row in fresh])
    for (instance, previous, _), row in zip(fresh, rows, strict=True):
        entry = buffer.entries.setdefault(_key(instance), _Entry())
        entry.outbox_id = row.pk
        entry.created = entry.created or created
        entry.bumped = entry.bumped or created
        entry.previous_data = previous
        buffer.instances.append(weakref.ref(instance))
        instance._snapshot_tracked_fields()


def enqueue_delete(instance: Any, *, using: str) -> None:
    """Queue a DELETE; drop the pending message instead if the row was created unpublished."""
    from toolkit.cqrs.models import CqrsOutbox

    key = _key(instance)
    buffer = _buffer(using)
    entry = buffer.entries.get(key) if buffer else None
    if buffer is not None and entry is not None and entry.created:
        if entry.outbox_id is not None:
            CqrsOutbox.objects.using(using).filter(pk=entry.outbox_id).delete()
        buffer.entries.pop(key)
        logger.debug("%s#%s created and deleted before commit: nothing sent", *key)
        return
    revision = instance.__dict__.pop("_cqrs_db_revision", None)
    if revision is None:
        revision = getattr(instance, REVISION_FIELD)
    if not isinstance(revision, int):
        revision = 0
    if entry is None or not entry.bump_stands(using):
        revision += 1
    # django-cqrs' DELETE body: the pk is always under "id" (whatever the pk field is
    # called), the time is str() of the aware datetime, custom data goes under "custom".
    instance_data: dict[str, Any] = {
        "id": _json_ready_value(instance.pk),
        REVISION_FIELD: revision,
        UPDATED_FIELD: str(timezone.now()),
    }
    custom = instance.get_custom_cqrs_delete_data()
    if custom:
        instance_data["custom"] = custom
    payload = TransportPayload(
        signal_type=SignalType.DELETE,
        cqrs_id=key[0],
        instance_data=instance_data,
        instance_pk=instance.pk,
        correlation_id=_correlation_id(SignalType.DELETE, key[0], instance.pk, None),
        expires=_expires(),
        meta=instance.get_cqrs_meta(signal_type=SignalType.DELETE, instance_data=instance_data),
    )
    if entry is not None:
        entry.mark_bumped(_savepoint_marker(using))
    _write(buffer, key, payload, using=using, created=False)


def publish_rows(ids: list[int], *, using: str = "default") -> int:
    """Produce the outbox rows ``ids`` through the transport; delete those it accepted.

    A SAVE or SYNC row whose instance no longer exists (deleted without signals, e.g. by
    raw SQL, before this ran) is dropped, never sent. Returns the number published.
    """
    from toolkit.cqrs.models import CqrsOutbox
    from toolkit.cqrs.registries import MasterRegistry
    from toolkit.cqrs.transport import get_transport

    rows = list(CqrsOutbox.objects.using(using).filter(pk__in=ids).order_by("pk"))
    if not rows:
        return 0
    gone: set[int] = set()
    rendered: dict[int, Any] = {}  # row id -> the committed instance to serialise
    by_id: dict[str, list[CqrsOutbox]] = {}
    for row in rows:
        if row.signal_type != SignalType.DELETE:
            by_id.setdefault(row.cqrs_id, []).append(row)
    for cqrs_id, saves in by_id.items():
        model = MasterRegistry.get_model_by_cqrs_id(cqrs_id)
        if model is None:
            continue
        gone.update(_gone_rows(model, saves, using=using))
        deferred = [
            r for r in saves if r.pk not in gone and serialized_at_publish(model, r.signal_type)
        ]
        if deferred:
            rendered.update(_committed_instances(model, deferred, using=using))
            for row in deferred:
                if row.pk not in rendered:
                    # django-cqrs logs this and sends nothing (its relate_cqrs_serialization
                    # leaves the instance out, or the row is gone).
                    logger.error(
                        "Can't produce message from master model '%s': "
                        "The instance doesn't exist (pk=%s)",
                        model.__name__,
                        row.instance_pk,
                    )
                    gone.add(row.pk)
    transport = get_transport()
    done: list[int] = list(gone)
    for row in rows:
        if row.pk in gone:
            logger.info("%s#%s no longer exists: message dropped", row.cqrs_id, row.instance_pk)
            continue
        try:
            payload = TransportPayload.from_message(row.payload)
            if row.pk in rendered:
                _serialize_committed(payload, rendered[row.pk], using=using)
            transport.produce(payload)
        except Exception as exc:
            logger.warning(
                "CQRS publish of %s#%s failed (%s); left pending in the outbox",
                row.cqrs_id,
                row.instance_pk,
                exc,
            )
            CqrsOutbox.objects.using(using).filter(pk=row.pk).update(
                attempts=row.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"
            )
            continue
        done.append(row.pk)
    CqrsOutbox.objects.using(using).filter(pk__in=done).delete()
    return len(done) - len(gone)


def _gone_rows(model: type[Any], saves: list[Any], *, using: str) -> set[int]:
    """The SAVE/SYNC rows whose instance no longer exists (deleted without signals)."""
    existing = {
        str(pk)
        for pk in model._default_manager.using(using)
        .filter(pk__in=[r.instance_pk for r in saves])
        .values_list("pk", flat=True)
    }
    return {r.pk for r in saves if r.instance_pk not in existing}


def _committed_instances(model: type[Any], rows: list[Any], *, using: str) -> dict[int, Any]:
    """Row id -> the instance read through ``relate_cqrs_serialization``, one query per model
    (what django-cqrs' ``bulk_relate_cqrs_serialization`` batches by hand)."""
    queryset = model.relate_cqrs_serialization(model._default_manager.using(using))
    by_pk = {
        str(obj.pk): obj for obj in queryset.filter(pk__in=[r.instance_pk for r in rows]).order_by()
    }
    return {r.pk: by_pk[r.instance_pk] for r in rows if r.instance_pk in by_pk}


def _serialize_committed(payload: TransportPayload, instance: Any, *, using: str) -> None:
    """Fill a deferred SAVE with the committed instance's ``instance_data`` and ``meta``."""
    instance_data = instance.to_cqrs_dict(using=using, sync=True)
    payload.instance_data = instance_data
    payload.meta = instance.get_cqrs_meta(
        instance_data=instance_data,
        previous_data=payload.previous_data,
        signal_type=payload.signal_type,
    )


def publish_pending(*, cqrs_id: str | None = None, using: str = "default") -> int:
    """Publish every outbox row left pending (optionally of one CQRS_ID); return the count."""
    from toolkit.cqrs.models import CqrsOutbox

    rows = CqrsOutbox.objects.using(using).order_by("pk")
    if cqrs_id is not None:
        rows = rows.filter(cqrs_id=cqrs_id)
    total = 0
    ids = list(rows.values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        total += publish_rows(ids[start : start + 500], using=using)
    return total
