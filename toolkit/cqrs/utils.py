"""django-cqrs' ``dj_cqrs.utils``, over the toolkit's settings.

``get_message_expiration_dt``, ``get_json_valid_value``, ``apply_query_timeouts`` and
``bulk_relate_cqrs_serialization`` behave as django-cqrs 3.1.0's. The delay-queue helpers
answer from django-cqrs' ``CQRS["replica"]["delay_queue_max_size"]``: the toolkit's
consumers keep failed messages on the broker (``retry_delay``) instead of an in-memory delay
queue, so they only matter to code that reads them.
"""

from __future__ import annotations

from contextlib import ContextDecorator
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from toolkit.cqrs.constants import DB_VENDOR_PG, SUPPORTED_TIMEOUT_DB_VENDORS


def get_message_expiration_dt(message_ttl: float | None = None) -> datetime | None:
    """When a message produced now expires: ``message_ttl`` seconds (default: the setting
    ``CQRS["master"]["CQRS_MESSAGE_TTL"]`` / ``TOOLKIT["cqrs"]["message_ttl"]``) from now, or
    None if that is None (never)."""
    from toolkit.cqrs.conf import cqrs_settings

    message_ttl = message_ttl or cqrs_settings().message_ttl
    if message_ttl is None:
        return None
    return timezone.now() + timedelta(seconds=message_ttl)


def get_delay_queue_max_size() -> int | None:
    """``CQRS["replica"]["delay_queue_max_size"]``, or None (no limit) without a replica part."""
    cqrs = getattr(settings, "CQRS", None) or {}
    if "replica" not in cqrs:
        return None
    value: int | None = cqrs["replica"].get("delay_queue_max_size")
    return value


def get_messages_prefetch_count_per_worker() -> int:
    """How many unacknowledged messages one worker may hold: delay queue size + 1, 0 = any."""
    size = get_delay_queue_max_size()
    return 0 if size is None else size + 1


def get_json_valid_value(value: Any) -> Any:
    """``str()`` of a date, datetime or UUID (as django-cqrs puts them in messages); else as is."""
    return str(value) if isinstance(value, date | datetime | UUID) else value


def apply_query_timeouts(model_cls: type[Any]) -> None:
    """Set ``CQRS_QUERY_TIMEOUT`` (milliseconds) on the connection of ``model_cls``'s database,
    for the session, on PostgreSQL and MySQL (other databases have no such setting).

    The toolkit's consumer applies the timeout to the transaction that applies a message
    (:func:`apply_transaction_query_timeout`), so the connection keeps its own setting.
    """
    _set_query_timeout(model_cls._default_manager.db, transaction_only=False)


def apply_transaction_query_timeout(using: str) -> None:
    """``CQRS_QUERY_TIMEOUT`` for the current transaction only (PostgreSQL ``SET LOCAL``; on
    MySQL the session's, as django-cqrs sets it); nothing on other databases or at 0."""
    _set_query_timeout(using, transaction_only=True)


def _set_query_timeout(using: str, *, transaction_only: bool) -> None:
    from toolkit.cqrs.conf import cqrs_settings

    timeout = cqrs_settings().query_timeout
    if timeout <= 0:
        return
    connection = transaction.get_connection(using=using)
    vendor = getattr(connection, "vendor", "")
    if vendor not in SUPPORTED_TIMEOUT_DB_VENDORS:
        return
    with connection.cursor() as cursor:
        if vendor == DB_VENDOR_PG:
            # set_config() takes a bound parameter whatever the driver's binding mode; its
            # third argument true is SET LOCAL.
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, %s)", [str(timeout), transaction_only]
            )
        else:
            cursor.execute("SET SESSION MAX_EXECUTION_TIME=%s", [timeout])


class _BulkRelateCM(ContextDecorator):
    """django-cqrs' ``bulk_relate_cqrs_serialization()``: read the instances a block saves
    through ``relate_cqrs_serialization`` in one query per model, not one per instance.

    The toolkit does this for every commit: a model with ``CQRS_SERIALIZER`` is serialised
    when its outbox rows are published, all rows of one model in one query
    (:func:`toolkit.cqrs.producer.publish_rows`). So this context manager (or decorator) is
    accepted where django-cqrs code uses it and changes nothing; ``cqrs_id`` limits nothing.
    """

    def __init__(self, cqrs_id: str | None = None) -> None:
        self.cqrs_id = cqrs_id

    def __enter__(self) -> _BulkRelateCM:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def bulk_relate_cqrs_serialization(cqrs_id: str | None = None) -> _BulkRelateCM:
    """Batch the serialisation reads of the block (see :class:`_BulkRelateCM`)."""
    return _BulkRelateCM(cqrs_id=cqrs_id)


__all__ = [
    "apply_query_timeouts",
    "apply_transaction_query_timeout",
    "bulk_relate_cqrs_serialization",
    "get_delay_queue_max_size",
    "get_json_valid_value",
    "get_message_expiration_dt",
    "get_messages_prefetch_count_per_worker",
]
