"""Closed sets used by the CQRS messages: signal types, dead-letter reasons, outcomes."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class SignalType(StrEnum):
    """Type of signal that generates this event."""

    #: The master model has been saved.
    SAVE = "SAVE"
    #: The master model has been deleted.
    DELETE = "DELETE"
    #: The master model needs synchronisation.
    SYNC = "SYNC"


class DeadLetterReason(StrEnum):
    """Why a message ended in the dead-letter store."""

    #: The body is not JSON, not an object, or lacks a required key.
    MALFORMED = "malformed"
    #: No replica model is registered for the message's CQRS_ID.
    UNKNOWN_CQRS_ID = "unknown_cqrs_id"
    #: The message's ``expires`` was in the past when it arrived.
    EXPIRED = "expired"
    #: Applying it raised on every attempt (``max_retries`` exhausted).
    FAILED = "failed"


class Outcome(StrEnum):
    """What the consumer did with one message."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    DEAD_LETTER = "dead_letter"
    #: A SYNC addressed to another replica queue (``cqrs_sync --queue``): not for us.
    OTHER_QUEUE = "other_queue"


#: Name of the revision field on master and replica models.
REVISION_FIELD: Final = "cqrs_revision"
#: Name of the last-change timestamp field on master and replica models.
UPDATED_FIELD: Final = "cqrs_updated"
#: The special ``CQRS_FIELDS`` / ``CQRS_TRACKED_FIELDS`` value meaning "every field".
ALL_FIELDS: Final = "__all__"
#: django-cqrs' name for :data:`ALL_FIELDS`.
ALL_BASIC_FIELDS: Final = ALL_FIELDS
#: django-cqrs' placeholder for "no queue" in command output.
NO_QUEUE: Final = "None"
#: django-cqrs' defaults, which ``TOOLKIT["cqrs"]`` / ``CQRS`` override.
DEFAULT_DEAD_MESSAGE_TTL: Final = 864000  # 10 days
DEFAULT_MASTER_AUTO_UPDATE_FIELDS: Final = False
DEFAULT_MASTER_MESSAGE_TTL: Final = 86400  # 1 day
DEFAULT_REPLICA_MAX_RETRIES: Final = 30
DEFAULT_REPLICA_RETRY_DELAY: Final = 2  # seconds
DEFAULT_REPLICA_DELAY_QUEUE_MAX_SIZE: Final = 1000
#: The database vendors whose query timeout ``CQRS_QUERY_TIMEOUT`` sets (django-cqrs' names).
DB_VENDOR_PG: Final = "postgresql"
DB_VENDOR_MYSQL: Final = "mysql"
SUPPORTED_TIMEOUT_DB_VENDORS: Final = frozenset({DB_VENDOR_MYSQL, DB_VENDOR_PG})
#: How each vendor reports a statement cancelled by the timeout.
PG_TIMEOUT_FLAG: Final = "statement timeout"
MYSQL_TIMEOUT_ERROR_CODE: Final = 3024
