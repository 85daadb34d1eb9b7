"""Bad input goes to the dead letters, failures are retried, dead letters are replayed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from demo.replication.models import ProductReplica
from toolkit.cqrs.constants import DeadLetterReason, Outcome
from toolkit.cqrs.consumer import consume_body
from toolkit.cqrs.dead_letters import dead_letter_list, replay_dead_letter
from toolkit.cqrs.exceptions import CqrsError
from toolkit.cqrs.models import CqrsDeadLetter


def _body(**changes):
    message = {
        "signal_type": "SAVE",
        "cqrs_id": "product",
        "instance_pk": 7,
        "instance_data": {
            "id": 7,
            "sku": "S-7",
            "name": "Chair",
            "price": "12.00",
            "stock": 1,
            "is_active": True,
            "cqrs_revision": 0,
            "cqrs_updated": "2026-01-01T00:00:00+00:00",
        },
    }
    message.update(changes)
    return json.dumps(message)


class DeadLetterTests(TestCase):
    def assert_dead(self, body, reason, error):
        assert consume_body(body, retry_delay=0) is Outcome.DEAD_LETTER
        letter = CqrsDeadLetter.objects.get()
        assert (letter.reason, letter.error) == (reason, error)
        return letter

    def test_non_json_body_is_dead_lettered_with_the_raw_text(self):
        letter = self.assert_dead(
            b"not json{",
            "malformed",
            "message body is not JSON: Expecting value: line 1 column 1 (char 0)",
        )
        assert letter.payload == "not json{"

    def test_message_without_revision_is_dead_lettered(self):
        body = json.loads(_body())
        del body["instance_data"]["cqrs_revision"]
        self.assert_dead(
            json.dumps(body), "malformed", "instance_data lacks an integer 'cqrs_revision': None"
        )

    def test_unknown_cqrs_id_is_dead_lettered_with_the_known_ids(self):
        letter = self.assert_dead(
            _body(cqrs_id="invoice"),
            "unknown_cqrs_id",
            "no replica model has CQRS_ID 'invoice'; registered: 'customer', 'product'",
        )
        assert letter.cqrs_id == "invoice"

    def test_expired_message_is_dead_lettered(self):
        self.assert_dead(
            _body(expires="2000-01-01T00:00:00+00:00"),
            "expired",
            "message expired at 2000-01-01T00:00:00+00:00",
        )

    def test_data_without_primary_key_is_dead_lettered(self):
        body = json.loads(_body())
        del body["instance_data"]["id"]
        self.assert_dead(
            json.dumps(body),
            "malformed",
            "instance data for replication.ProductReplica lacks its primary key 'id': "
            "['cqrs_revision', 'cqrs_updated', 'is_active', 'price', 'sku', 'stock', 'title']",
        )

    def test_failing_message_is_retried_then_dead_lettered_then_replayed(self):
        bad = _body(instance_data={**json.loads(_body())["instance_data"], "price": "abc"})
        with self.assertLogs("toolkit.cqrs.consumer", "INFO") as logs:
            assert consume_body(bad, max_retries=2, retry_delay=0) is Outcome.DEAD_LETTER
        assert sum("retry" in line for line in logs.output) == 2
        letter = CqrsDeadLetter.objects.get()
        assert (letter.reason, letter.attempts, letter.payload["retries"]) == ("failed", 3, 2)
        assert "ValidationError" in letter.error
        # The operator fixes the payload, then replays it.
        letter.payload["instance_data"]["price"] = "3.00"
        letter.save()
        assert replay_dead_letter(letter) is Outcome.APPLIED
        letter.refresh_from_db()
        assert letter.replayed_at is not None
        assert ProductReplica.objects.get(pk=7).price == 3
        with pytest.raises(CqrsError) as excinfo:
            replay_dead_letter(letter)
        assert excinfo.value.args == (
            f"dead letter #{letter.pk} was already replayed at {letter.replayed_at.isoformat()}",
        )

    def test_failed_replay_counts_the_attempt(self):
        consume_body(_body(cqrs_id="invoice"))
        letter = CqrsDeadLetter.objects.get()
        assert replay_dead_letter(letter) is Outcome.DEAD_LETTER
        letter.refresh_from_db()
        assert letter.attempts == 2
        assert letter.error == (
            "UnknownCqrsId: 'invoice' is not a replica CQRS_ID; available: 'customer', 'product'"
        )
        assert letter.replayed_at is None

    def test_replay_ignores_expiry(self):
        consume_body(_body(expires=datetime(2000, 1, 1, tzinfo=UTC).isoformat()))
        assert replay_dead_letter(CqrsDeadLetter.objects.get()) is Outcome.APPLIED
        assert ProductReplica.objects.filter(pk=7).exists()

    def test_dead_letter_list_rejects_unknown_reason(self):
        with pytest.raises(CqrsError) as excinfo:
            dead_letter_list(reason="lost")
        assert excinfo.value.args == (
            "Unknown dead-letter reason 'lost'; valid reasons: 'expired', 'failed', "
            "'malformed', 'unknown_cqrs_id'",
        )

    def test_dead_letters_command_lists_and_replays(self):
        consume_body(_body(expires="2000-01-01T00:00:00+00:00"))
        consume_body(b"[]")
        out = StringIO()
        call_command("cqrs_dead_letters", "list", "--reason", "expired", stdout=out)
        (line,) = out.getvalue().splitlines()
        letter = CqrsDeadLetter.objects.get(reason=DeadLetterReason.EXPIRED)
        assert line.startswith(f"#{letter.pk} expired product attempts=1 replayed=- ")
        out = StringIO()
        call_command("cqrs_dead_letters", "replay", "--all", stdout=out)
        assert out.getvalue() == "Replayed: applied=1, dead_letter=1.\n"
        with pytest.raises(CommandError) as excinfo:
            call_command("cqrs_dead_letters", "replay", str(letter.pk))
        assert excinfo.value.args == (f"No unreplayed dead letter with id(s): {letter.pk}",)
        with pytest.raises(CommandError) as excinfo:
            call_command("cqrs_dead_letters", "replay")
        assert excinfo.value.args == ("Give dead letter ids, or --all",)

    def test_dead_letters_command_takes_django_cqrs_names_and_output(self):
        # django-cqrs 3.1.0: dump writes each dead body; retry prints "Total dead letters: N",
        # "Retrying: i/N" and the message with retries 0; purge "Total dead letters: N", "Purged".
        consume_body(_body(expires="2000-01-01T00:00:00+00:00"))
        consume_body(b"[]")
        out = StringIO()
        call_command("cqrs_dead_letters", "dump", stdout=out)
        expired, malformed = out.getvalue().splitlines()
        assert json.loads(expired)["instance_pk"] == 7
        assert json.loads(expired)["expires"] == "2000-01-01T00:00:00+00:00"
        assert malformed == "[]"
        out = StringIO()
        call_command("cqrs_dead_letters", "retry", "--reason", "expired", stdout=out)
        total, retrying, message = out.getvalue().splitlines()
        assert (total, retrying) == ("Total dead letters: 1", "Retrying: 1/1")
        assert json.loads(message)["retries"] == 0
        assert ProductReplica.objects.filter(pk=7).exists()
        out = StringIO()
        call_command("cqrs_dead_letters", "retry", stdout=out)  # the malformed one fails again
        assert out.getvalue() == "Total dead letters: 1\nRetrying: 1/1\n[]\n"
        assert CqrsDeadLetter.objects.get(reason="malformed").attempts == 2
        out = StringIO()
        call_command("cqrs_dead_letters", "purge", "--reason", "malformed", stdout=out)
        assert out.getvalue() == "Total dead letters: 1\nPurged\n"
        assert list(CqrsDeadLetter.objects.values_list("reason", flat=True)) == ["expired"]
        out = StringIO()
        call_command("cqrs_dead_letters", "purge", stdout=out)
        assert out.getvalue() == "Total dead letters: 1\nPurged\n"
        assert not CqrsDeadLetter.objects.exists()
        out = StringIO()
        call_command("cqrs_dead_letters", "purge", stdout=out)
        assert out.getvalue() == "Total dead letters: 0\n"
