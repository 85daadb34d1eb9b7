"""The message that travels from a master model to its replicas."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from toolkit.cqrs.constants import SignalType
from toolkit.cqrs.exceptions import MalformedMessage

_REQUIRED = ("signal_type", "cqrs_id", "instance_data", "instance_pk")


def _parse_expires(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedMessage(f"'expires' must be an ISO 8601 string or null, not {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedMessage(f"'expires' is not an ISO 8601 datetime: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class TransportPayload:
    """Transport message payload.

    ``instance_data`` carries the serialised instance, including its ``cqrs_revision``; the
    replica applies a payload only when that revision is newer than the one it holds.

    >>> TransportPayload(SignalType.SAVE, "product", {"id": 1, "cqrs_revision": 0}, 1).to_dict()[
    ...     "cqrs_id"]
    'product'
    """

    signal_type: SignalType
    cqrs_id: str
    instance_data: dict[str, Any]
    instance_pk: Any
    queue: str | None = None
    previous_data: dict[str, Any] | None = None
    correlation_id: str | None = None
    expires: datetime | None = None
    retries: int = 0
    meta: dict[str, Any] | None = field(default=None)

    @classmethod
    def from_message(cls, dct: Any) -> TransportPayload:
        """Build a payload from deserialised message data; raise ``MalformedMessage`` if bad."""
        if not isinstance(dct, dict):
            raise MalformedMessage(f"message body must be a JSON object, not {dct!r}")
        missing = [key for key in _REQUIRED if key not in dct]
        if missing:
            raise MalformedMessage(f"message lacks required keys: {', '.join(missing)}")
        try:
            signal_type = SignalType(dct["signal_type"])
        except ValueError:
            valid = ", ".join(repr(s.value) for s in SignalType)
            raise MalformedMessage(
                f"unknown signal_type {dct['signal_type']!r}; valid: {valid}"
            ) from None
        cqrs_id = dct["cqrs_id"]
        if not isinstance(cqrs_id, str) or not cqrs_id:
            raise MalformedMessage(f"'cqrs_id' must be a non-empty string, not {cqrs_id!r}")
        instance_data = dct["instance_data"]
        if not isinstance(instance_data, dict):
            raise MalformedMessage(f"'instance_data' must be an object, not {instance_data!r}")
        if dct["instance_pk"] is None:
            raise MalformedMessage("'instance_pk' must not be null")
        retries = dct.get("retries", 0)
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise MalformedMessage(f"'retries' must be a non-negative integer, not {retries!r}")
        queue = dct.get("queue")
        if queue is not None and not isinstance(queue, str):
            raise MalformedMessage(f"'queue' must be a string or null, not {queue!r}")
        for key in ("previous_data", "meta"):
            if dct.get(key) is not None and not isinstance(dct[key], dict):
                raise MalformedMessage(f"{key!r} must be an object or null, not {dct[key]!r}")
        return cls(
            signal_type=signal_type,
            cqrs_id=cqrs_id,
            instance_data=instance_data,
            instance_pk=dct["instance_pk"],
            queue=queue,
            previous_data=dct.get("previous_data"),
            correlation_id=dct.get("correlation_id"),
            expires=_parse_expires(dct.get("expires")),
            retries=retries,
            meta=dct.get("meta"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The message body, key for key and in django-cqrs' order (its wire format).

        ``expires`` is ISO 8601 without microseconds; ``queue`` is not part of the body (a
        SYNC for one queue travels under the routing key ``cqrs.<queue>.<cqrs_id>``).
        """
        expires = self.expires.replace(microsecond=0).isoformat() if self.expires else None
        return {
            "signal_type": self.signal_type.value,
            "cqrs_id": self.cqrs_id,
            "instance_data": self.instance_data,
            "previous_data": self.previous_data,
            "instance_pk": self.instance_pk,
            "correlation_id": self.correlation_id,
            "retries": self.retries,
            "expires": expires,
            "meta": self.meta,
        }

    def to_stored(self) -> dict[str, Any]:
        """:meth:`to_dict` plus ``queue``: what the outbox row keeps until the message is sent."""
        return {**self.to_dict(), "queue": self.queue}

    @property
    def pk(self) -> Any:
        """The master instance's primary key (django-cqrs' name for ``instance_pk``)."""
        return self.instance_pk

    def is_expired(self, now: datetime | None = None) -> bool:
        """Whether ``expires`` is set and in the past (``now`` defaults to the current time)."""
        if self.expires is None:
            return False
        return self.expires <= (now or datetime.now(UTC))

    @property
    def revision(self) -> int | None:
        """The master's ``cqrs_revision`` carried in ``instance_data`` (None if absent)."""
        value = self.instance_data.get("cqrs_revision")
        return value if isinstance(value, int) and not isinstance(value, bool) else None
