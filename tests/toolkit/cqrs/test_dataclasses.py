"""TransportPayload: building from messages, dict round trip, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from toolkit.cqrs.constants import SignalType
from toolkit.cqrs.dataclasses import TransportPayload
from toolkit.cqrs.exceptions import MalformedMessage


def _message(**changes):
    message = {
        "signal_type": "SAVE",
        "cqrs_id": "product",
        "instance_data": {"id": 1, "cqrs_revision": 2},
        "instance_pk": 1,
    }
    message.update(changes)
    return message


def test_from_message_round_trips_through_to_dict():
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    payload = TransportPayload.from_message(
        _message(
            expires=expires.isoformat(),
            retries=2,
            correlation_id="abc",
            meta={"a": 1},
            previous_data={"name": "old"},
            queue="q",
        )
    )
    assert payload.signal_type is SignalType.SAVE
    assert payload.expires == expires
    assert payload.retries == 2
    assert payload.correlation_id == "abc"
    assert payload.meta == {"a": 1}
    assert payload.revision == 2
    assert TransportPayload.from_message(payload.to_stored()) == payload
    # The wire body is django-cqrs' to_dict(): its keys in its order, no queue.
    assert list(payload.to_dict()) == [
        "signal_type",
        "cqrs_id",
        "instance_data",
        "previous_data",
        "instance_pk",
        "correlation_id",
        "retries",
        "expires",
        "meta",
    ]
    assert payload.pk == payload.instance_pk


def test_a_queue_that_is_not_a_string_is_malformed():
    with pytest.raises(MalformedMessage) as exc:
        TransportPayload.from_message(_message(queue=["q"]))
    assert exc.value.args == ("'queue' must be a string or null, not ['q']",)


def test_is_expired_compares_with_now():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    payload = TransportPayload(SignalType.SAVE, "p", {}, 1, expires=now)
    assert payload.is_expired(now + timedelta(seconds=1))
    assert not payload.is_expired(now - timedelta(seconds=1))
    assert not TransportPayload(SignalType.SAVE, "p", {}, 1).is_expired()


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ([1, 2], "message body must be a JSON object, not [1, 2]"),
        ({"cqrs_id": "p"}, "message lacks required keys: signal_type, instance_data, instance_pk"),
        (
            _message(signal_type="UPSERT"),
            "unknown signal_type 'UPSERT'; valid: 'SAVE', 'DELETE', 'SYNC'",
        ),
        (_message(cqrs_id=""), "'cqrs_id' must be a non-empty string, not ''"),
        (_message(instance_data=[]), "'instance_data' must be an object, not []"),
        (_message(instance_pk=None), "'instance_pk' must not be null"),
        (_message(retries=-1), "'retries' must be a non-negative integer, not -1"),
        (_message(expires="tomorrow"), "'expires' is not an ISO 8601 datetime: 'tomorrow'"),
        (_message(meta=[1]), "'meta' must be an object or null, not [1]"),
    ],
    ids=["array", "missing", "signal", "cqrs-id", "data", "pk", "retries", "expires", "meta"],
)
def test_from_message_rejects_malformed_messages(message, error):
    with pytest.raises(MalformedMessage) as excinfo:
        TransportPayload.from_message(message)
    assert excinfo.value.args == (error,)
