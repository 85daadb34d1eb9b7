"""cqrs_sync, cqrs_consume, the outbox when the transport fails, the admin action, settings."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.models import User
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.management import CommandError, call_command
from django.test import RequestFactory, TestCase, override_settings

from demo.replication.admin import ProductAdmin
from demo.replication.models import Product, ProductReplica
from toolkit.cqrs.conf import CQRS_DEFAULTS, check_cqrs_settings, validate_cqrs
from toolkit.cqrs.exceptions import TransportError
from toolkit.cqrs.models import CqrsOutbox
from toolkit.cqrs.transport.base import BaseTransport
from toolkit.cqrs.transport.inprocess import InProcessTransport


class FailingTransport(BaseTransport):
    """Refuses every message, like a broker that is down."""

    @classmethod
    def produce(cls, payload):
        raise TransportError("broker down")

    @classmethod
    def consume(cls, *args, **kwargs):
        return 0

    @classmethod
    def clean_connection(cls, *args, **kwargs):
        return None


FAILING = {"cqrs": {"transport": f"{__name__}.FailingTransport"}}


class SyncCommandTests(TestCase):
    def setUp(self):
        # Master rows are created and published in setUp: on_commit callbacks registered in
        # setUpTestData's class-wide transaction would never run.
        with InProcessTransport.hold(), self.captureOnCommitCallbacks(execute=True):
            self.products = [
                Product.objects.create(sku=f"S-{i}", name=f"P{i}", price=Decimal(i))
                for i in range(3)
            ]
        InProcessTransport.clean_connection()

    def test_sync_with_filter_resends_only_the_chosen_instances(self):
        ids = [self.products[0].pk, self.products[2].pk]
        out = StringIO()
        with InProcessTransport.hold(), self.captureOnCommitCallbacks(execute=True):
            call_command(
                "cqrs_sync", "--cqrs-id", "product", "--filter", f'{{"id__in": {ids}}}', stdout=out
            )
        assert out.getvalue() == "Done!\n2 instance(s) synced.\n2 instance(s) processed.\n"
        messages = InProcessTransport.pending()
        assert sorted(m["instance_pk"] for m in messages) == sorted(ids)
        assert {m["signal_type"] for m in messages} == {"SYNC"}
        InProcessTransport.consume()
        assert sorted(ProductReplica.objects.values_list("pk", flat=True)) == sorted(ids)

    def test_sync_rejects_bad_input(self):
        cases = [
            # django-cqrs 3.1.0's messages, word for word.
            (["--cqrs-id", "invoice"], "Wrong CQRS ID: invoice!"),
            (["--cqrs-id", "product", "--filter", "[1]"], "Bad filter kwargs!"),
            (["--cqrs-id", "product", "--filter", "{"], "Bad filter kwargs!"),
            ([], "--cqrs-id is required (or use --pending)"),
        ]
        for args, message in cases:
            with pytest.raises(CommandError) as excinfo:
                call_command("cqrs_sync", *args)
            assert excinfo.value.args == (message,)
        with pytest.raises(CommandError) as excinfo:
            call_command("cqrs_sync", "--cqrs-id", "product", "--filter", '{"colour": 1}')
        assert str(excinfo.value).startswith("Bad filter kwargs! Cannot resolve keyword 'colour'")

    def test_sync_without_filter_sends_nothing_and_empty_filter_sends_all(self):
        # django-cqrs: no --filter matches nothing; '{}' is every instance.
        out = StringIO()
        with InProcessTransport.hold(), self.captureOnCommitCallbacks(execute=True):
            call_command("cqrs_sync", "-cid", "product", stdout=out)
        assert out.getvalue() == "No objects found for filter!\n"
        assert InProcessTransport.pending() == []
        out = StringIO()
        with InProcessTransport.hold(), self.captureOnCommitCallbacks(execute=True):
            call_command("cqrs_sync", "-cid", "product", "-f", '{"sku": "none"}', stdout=out)
        assert out.getvalue() == "No objects found for filter!\n"
        out = StringIO()
        with InProcessTransport.hold():
            with self.captureOnCommitCallbacks(execute=True):
                call_command("cqrs_sync", "-cid", "product", "-f", "{}", stdout=out)
            assert len(InProcessTransport.pending()) == 3
        assert out.getvalue() == "Done!\n3 instance(s) synced.\n3 instance(s) processed.\n"
        InProcessTransport.clean_connection()

    def test_sync_reports_a_failing_instance_and_goes_on(self):
        # django-cqrs prints "Sync record failed for pk=..." and syncs the others; here the
        # failing instance's savepoint rolls back and the others' messages still go out.
        broken = self.products[1]
        original = Product.cqrs_sync

        def cqrs_sync(instance, *args, **kwargs):
            if instance.pk == broken.pk:
                raise RuntimeError("serializer exploded")
            return original(instance, *args, **kwargs)

        out = StringIO()
        with mock.patch.object(Product, "cqrs_sync", cqrs_sync), InProcessTransport.hold():
            with self.captureOnCommitCallbacks(execute=True):
                call_command("cqrs_sync", "-cid", "product", "-f", "{}", stdout=out)
            pending = InProcessTransport.pending()
        assert out.getvalue() == (
            f"\nSync record failed for pk={broken.pk}: RuntimeError: serializer exploded\n"
            "Done!\n2 instance(s) synced.\n3 instance(s) processed.\n"
        )
        assert sorted(m["instance_pk"] for m in pending) == sorted(
            p.pk for p in self.products if p.pk != broken.pk
        )
        InProcessTransport.clean_connection()

    def test_a_service_configured_with_django_cqrs_settings_only(self):
        # A django-cqrs service keeps its CQRS = {...} (no TOOLKIT["cqrs"]): the commands and
        # the replica read it, e.g. the replica's queue for `cqrs_sync --queue`.
        django_cqrs = {
            "transport": "toolkit.cqrs.transport.inprocess.InProcessTransport",
            "queue": "catalog_replica",
            "replica": {"CQRS_MAX_RETRIES": 2},
        }
        ProductReplica.objects.all().delete()
        with override_settings(TOOLKIT={}, CQRS=django_cqrs):
            out = StringIO()
            with InProcessTransport.hold():
                with self.captureOnCommitCallbacks(execute=True):
                    call_command("cqrs_sync", "-cid", "product", "-f", "{}", "-q", "other_q")
                messages = InProcessTransport.pending()
            assert {m["queue"] for m in messages} == {"other_q"}
            InProcessTransport.consume()  # another service's SYNC: skipped by this replica
            assert not ProductReplica.objects.exists()
            with InProcessTransport.hold():
                with self.captureOnCommitCallbacks(execute=True):
                    call_command(
                        "cqrs_sync",
                        "-cid",
                        "product",
                        "-f",
                        "{}",
                        "-q",
                        "catalog_replica",
                        stdout=out,
                    )
                InProcessTransport.consume()
            assert out.getvalue() == "Done!\n3 instance(s) synced.\n3 instance(s) processed.\n"
            assert ProductReplica.objects.count() == 3
            out = StringIO()
            call_command("cqrs_dead_letters", "purge", stdout=out)
            assert out.getvalue() == "Total dead letters: 0\n"

    def test_refused_messages_stay_pending_until_published(self):
        with override_settings(TOOLKIT=FAILING), self.captureOnCommitCallbacks(execute=True):
            product = Product.objects.create(sku="X", name="X", price=Decimal(1))
        row = CqrsOutbox.objects.get()
        assert (row.cqrs_id, row.instance_pk, row.attempts, row.last_error) == (
            "product",
            str(product.pk),
            1,
            "TransportError: broker down",
        )
        out = StringIO()
        call_command("cqrs_sync", "--pending", stdout=out)
        assert out.getvalue() == "Published 1 pending message(s).\n"
        assert not CqrsOutbox.objects.exists()
        assert ProductReplica.objects.filter(pk=product.pk).exists()

    def test_pending_message_for_an_instance_deleted_without_signals_is_dropped(self):
        with override_settings(TOOLKIT=FAILING), self.captureOnCommitCallbacks(execute=True):
            product = Product.objects.create(sku="Y", name="Y", price=Decimal(1))
        Product.objects.filter(pk=product.pk)._raw_delete(using="default")
        call_command("cqrs_sync", "--pending", stdout=StringIO())
        assert not CqrsOutbox.objects.exists()
        assert not ProductReplica.objects.filter(pk=product.pk).exists()

    def test_admin_action_synchronises_selected_items(self):
        admin = ProductAdmin(Product, AdminSite())
        request = RequestFactory().post("/")
        request.user = User(username="staff", is_staff=True, is_superuser=True)
        request.session = {}
        request._messages = FallbackStorage(request)
        assert admin.get_actions(request)["sync_items"][2] == "Synchronise selected via CQRS"
        with self.captureOnCommitCallbacks(execute=True):
            admin.sync_items(request, Product.objects.filter(pk=self.products[1].pk))
        assert [str(m) for m in request._messages] == [
            "1 of 1 products queued for CQRS synchronisation."
        ]
        assert list(ProductReplica.objects.values_list("pk", flat=True)) == [self.products[1].pk]


def test_consume_command_refuses_the_in_process_transport():
    with pytest.raises(CommandError) as excinfo:
        call_command("cqrs_consume")
    assert excinfo.value.args == (
        "The in-process transport delivers messages inside the producing process; set "
        "TOOLKIT['cqrs']['transport'] to 'toolkit.cqrs.transport.kombu.KombuTransport' to run "
        "a consumer.",
    )


def test_validate_cqrs_names_each_bad_value():
    assert validate_cqrs(CQRS_DEFAULTS) == []
    assert validate_cqrs(
        {
            "brokr": "x",
            "queue": "",
            "max_retries": -1,
            "retry_delay": "1",
            "message_ttl": 0,
            "transport": "nowhere.Transport",
            "query_timeout": 1.5,
        }
    ) == [
        "Unknown key 'brokr' in TOOLKIT['cqrs']; valid keys are: 'auto_update_fields', "
        "'broker_url', 'correlation_function', 'exchange', 'gap_grace_period', 'max_retries', "
        "'message_ttl', "
        "'meta_function', 'query_timeout', 'queue', 'retry_delay', 'transport', "
        "'visibility_timeout'.",
        "TOOLKIT['cqrs']['queue'] is ''; it must be a non-empty string.",
        "TOOLKIT['cqrs']['max_retries'] is -1; it must be an integer >= 0.",
        "TOOLKIT['cqrs']['retry_delay'] is '1'; it must be a number of seconds >= 0.",
        "TOOLKIT['cqrs']['message_ttl'] is 0; it must be a number of seconds > 0 or None.",
        "TOOLKIT['cqrs']['query_timeout'] is 1.5; it must be a number of milliseconds >= 0 "
        "(0: none).",
        "TOOLKIT['cqrs']['transport'] is 'nowhere.Transport'; it cannot be imported "
        "(No module named 'nowhere').",
    ]


def test_settings_check_reports_toolkit_e060():
    with override_settings(TOOLKIT={"cqrs": {"max_retries": "3"}}):
        (error,) = check_cqrs_settings()
    assert (error.id, error.msg) == (
        "toolkit.E060",
        "TOOLKIT['cqrs']['max_retries'] is '3'; it must be an integer >= 0.",
    )


def test_model_check_passes_for_the_demo_and_names_bad_mappings():
    from demo.replication.models import ProductReplica
    from toolkit.cqrs.checks import check_cqrs_models

    assert check_cqrs_models() == []
    ProductReplica.CQRS_MAPPING = {"name": "headline"}
    try:
        (error,) = check_cqrs_models()
    finally:
        ProductReplica.CQRS_MAPPING = {"name": "title"}
    assert error.id == "toolkit.E061"
    assert error.msg.startswith(
        "replication.ProductReplica.CQRS_MAPPING maps to unknown field(s) ['headline']; "
        "fields are: 'cqrs_revision', "
    )


def current_request_id(signal_type, cqrs_id, instance_pk, queue):
    # django-cqrs calls it with these four arguments.
    return f"req-{signal_type}-{cqrs_id}-{instance_pk}-{queue}"


def test_correlation_function_sets_the_message_correlation_id(
    db, django_capture_on_commit_callbacks
):
    settings = {"cqrs": {"correlation_function": f"{__name__}.current_request_id"}}
    with override_settings(TOOLKIT=settings), InProcessTransport.hold():
        with django_capture_on_commit_callbacks(execute=True):
            product = Product.objects.create(sku="C", name="C", price=Decimal(1))
        (message,) = InProcessTransport.pending()
    assert message["correlation_id"] == f"req-SAVE-product-{product.pk}-None"


@pytest.mark.django_db
def test_dead_letter_ids_and_limits_out_of_range_are_command_errors():
    """Ids no primary key can hold and a limit below 1 are refused with a message (they were
    an OverflowError in the driver and a ValueError from negative slicing)."""
    for argv, message in [
        (["replay", str(2**63)], f"not {2**63}"),
        (["retry", "0", "7"], "not 0"),
        (["list", "--limit", "0"], "--limit must be >= 1, not 0"),
        (["list", "--limit", "-1"], "--limit must be >= 1, not -1"),
    ]:
        with pytest.raises(CommandError) as exc:
            call_command("cqrs_dead_letters", *argv)
        assert message in str(exc.value), argv
    assert str(exc.value) == "--limit must be >= 1, not -1"
    with pytest.raises(CommandError) as exc:
        call_command("cqrs_dead_letters", "replay", str(2**63))
    assert str(exc.value) == (
        f"Dead letter ids are whole numbers from 1 to {2**63 - 1}, not {2**63}"
    )
