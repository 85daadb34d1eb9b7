"""dj_cqrs.utils and dj_cqrs.correlation on toolkit.cqrs, and CQRS_QUERY_TIMEOUT."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from demo.replication.models import Customer, ProductReplica
from tests.services import require_postgres_db
from tests.toolkit.cqrs.messages import save_body
from toolkit.cqrs.constants import SignalType
from toolkit.cqrs.consumer import consume_body
from toolkit.cqrs.correlation import get_correlation_id
from toolkit.cqrs.transport.inprocess import InProcessTransport
from toolkit.cqrs.utils import (
    apply_query_timeouts,
    apply_transaction_query_timeout,
    bulk_relate_cqrs_serialization,
    get_delay_queue_max_size,
    get_json_valid_value,
    get_message_expiration_dt,
    get_messages_prefetch_count_per_worker,
)


def correlate(signal_type, cqrs_id, instance_pk, queue):
    return f"{signal_type.value}:{cqrs_id}:{instance_pk}:{queue}"


def test_message_expiration_follows_the_ttl_setting_or_argument() -> None:
    before = timezone.now()
    with override_settings(TOOLKIT={}, CQRS={"master": {"CQRS_MESSAGE_TTL": 60}}):
        expires = get_message_expiration_dt()
        assert expires is not None
        assert before + timedelta(seconds=59) <= expires <= timezone.now() + timedelta(seconds=60)
        explicit = get_message_expiration_dt(3600)
        assert explicit is not None and explicit - before >= timedelta(seconds=3599)
    with override_settings(TOOLKIT={}, CQRS={"master": {"CQRS_MESSAGE_TTL": None}}):
        assert get_message_expiration_dt() is None


def test_json_valid_values_are_the_strings_django_cqrs_sends() -> None:
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert get_json_valid_value(key) == "12345678-1234-5678-1234-567812345678"
    assert get_json_valid_value(moment) == "2026-01-02 03:04:05.678901+00:00"
    assert get_json_valid_value(date(2026, 1, 2)) == "2026-01-02"
    assert get_json_valid_value(7) == 7


def test_delay_queue_helpers_read_django_cqrs_replica_settings() -> None:
    with override_settings(CQRS={"queue": "q"}):
        assert (get_delay_queue_max_size(), get_messages_prefetch_count_per_worker()) == (None, 0)
    with override_settings(CQRS={"replica": {"delay_queue_max_size": 50}}):
        assert (get_delay_queue_max_size(), get_messages_prefetch_count_per_worker()) == (50, 51)


def test_correlation_id_comes_from_the_correlation_function() -> None:
    assert get_correlation_id(SignalType.SAVE, "product", 1, None) is None
    path = f"{__name__}.correlate"
    with override_settings(TOOLKIT={}, CQRS={"master": {"correlation_function": path}}):
        assert get_correlation_id(SignalType.SYNC, "product", 7, "q") == "SYNC:product:7:q"


class BulkRelateTests(TestCase):
    def test_bulk_relate_cqrs_serialization_reads_each_model_once_per_commit(self) -> None:
        @bulk_relate_cqrs_serialization()
        def create_five() -> list[Customer]:
            return [
                Customer.objects.create(first_name=f"C{i}", last_name="X", email=f"{i}@x.io")
                for i in range(5)
            ]

        with (
            InProcessTransport.hold(),
            CaptureQueriesContext(connection) as queries,
            self.captureOnCommitCallbacks(execute=True),
            transaction.atomic(),
        ):
            made = create_five()
        messages = InProcessTransport.pending()
        InProcessTransport.clean_connection()
        assert sorted(m["instance_pk"] for m in messages) == sorted(c.pk for c in made)
        assert {m["instance_data"]["full_name"] for m in messages} == {f"C{i} X" for i in range(5)}
        reads = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].startswith("SELECT") and "replication_customer" in q["sql"]
        ]
        # The existence check and the read through relate_cqrs_serialization, for all five.
        assert len(reads) == 2, reads
        with bulk_relate_cqrs_serialization(cqrs_id="customer") as manager:
            assert manager.cqrs_id == "customer"


class QueryTimeoutTests(TestCase):
    def test_no_timeout_statement_without_the_setting_or_on_sqlite(self) -> None:
        with CaptureQueriesContext(connection) as queries:
            consume_body(save_body(41))
        assert ProductReplica.objects.filter(pk=41).exists()
        assert not [q for q in queries.captured_queries if "statement_timeout" in q["sql"]]

    @pytest.mark.postgres
    def test_the_replica_applies_each_message_under_cqrs_query_timeout(self) -> None:
        require_postgres_db()
        settings = {"replica": {"CQRS_QUERY_TIMEOUT": 250}}
        with override_settings(TOOLKIT={}, CQRS=settings):
            with CaptureQueriesContext(connection) as queries:
                consume_body(save_body(42))
            with transaction.atomic():
                apply_transaction_query_timeout("default")
                with connection.cursor() as cursor:
                    cursor.execute("SHOW statement_timeout")
                    assert cursor.fetchone() == ("250ms",)
            with connection.cursor() as cursor:
                cursor.execute("SHOW statement_timeout")
                inside_test_transaction = cursor.fetchone()
        assert ProductReplica.objects.filter(pk=42).exists()
        timeouts = [q["sql"] for q in queries.captured_queries if "statement_timeout" in q["sql"]]
        assert len(timeouts) == 1 and "'250'" in timeouts[0] and "true" in timeouts[0]
        # SET LOCAL lasts for the (savepoint's) transaction: the test's outer one still has it,
        # as a real consumer's connection would not after its commit.
        assert inside_test_transaction == ("250ms",)

    @pytest.mark.postgres
    def test_apply_query_timeouts_sets_the_session_timeout_as_django_cqrs(self) -> None:
        require_postgres_db()
        with override_settings(TOOLKIT={}, CQRS={"replica": {"CQRS_QUERY_TIMEOUT": 1500}}):
            apply_query_timeouts(ProductReplica)
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == ("1500ms",)
            cursor.execute("SET statement_timeout TO 0")
