"""The django-cqrs API of the seed, name by name: each test pins one documented behaviour."""

from __future__ import annotations

import inspect
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.models import User
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test import RequestFactory, TestCase, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext

from demo.replication.admin import ProductAdmin
from demo.replication.models import Customer, CustomerReplica, Product, ProductReplica
from tests import services
from toolkit.cqrs import signals
from toolkit.cqrs.constants import SignalType
from toolkit.cqrs.exceptions import TransportError
from toolkit.cqrs.managers import MasterManager, ReplicaManager
from toolkit.cqrs.mixins import MasterMixin, RawMasterMixin, ReplicaMixin
from toolkit.cqrs.registries import MasterRegistry, ReplicaRegistry
from toolkit.cqrs.sync import sync_queryset
from toolkit.cqrs.transport.base import BaseTransport
from toolkit.cqrs.transport.inprocess import InProcessTransport


def _product(sku: str = "SEED-1", **kwargs) -> Product:
    values = {"sku": sku, "name": "Lamp", "price": Decimal("9.50"), "stock": 3, **kwargs}
    return Product.objects.create(**values)


def _master_data(pk: int, revision: int, stock: int, **extra) -> dict:
    return {
        "id": pk,
        "sku": f"R-{pk}",
        "name": "Radio",
        "price": "5.00",
        "stock": stock,
        "is_active": True,
        "cqrs_revision": revision,
        "cqrs_updated": "2026-01-01T00:00:00+00:00",
        **extra,
    }


# -- names, defaults and signatures ----------------------------------------------------------
def test_master_mixin_attributes_have_the_seed_defaults():
    assert issubclass(MasterMixin, RawMasterMixin)
    assert (
        RawMasterMixin.CQRS_ID,
        RawMasterMixin.CQRS_PRODUCE,
        RawMasterMixin.CQRS_FIELDS,
        RawMasterMixin.CQRS_SERIALIZER,
        RawMasterMixin.CQRS_TRACKED_FIELDS,
    ) == (None, True, "__all__", None, None)
    assert isinstance(Product.cqrs, MasterManager)


def test_replica_mixin_attributes_have_the_seed_defaults():
    assert (
        ReplicaMixin.CQRS_ID,
        ReplicaMixin.CQRS_MAPPING,
        ReplicaMixin.CQRS_CUSTOM_SERIALIZATION,
        ReplicaMixin.CQRS_SELECT_FOR_UPDATE,
        ReplicaMixin.CQRS_NO_DB_OPERATIONS,
        ReplicaMixin.CQRS_META,
    ) == (None, None, False, False, False, False)
    assert isinstance(ProductReplica.cqrs, ReplicaManager)


@pytest.mark.parametrize(
    ("function", "signature"),
    [
        (RawMasterMixin.to_cqrs_dict, "(self, using=None, sync=False)"),
        (RawMasterMixin.cqrs_sync, "(self, using=None, queue=None)"),
        (RawMasterMixin.call_post_bulk_create, "(instances, using=None)"),
        (RawMasterMixin.call_post_update, "(instances, using=None)"),
        (RawMasterMixin.relate_cqrs_serialization, "(queryset)"),
        (ReplicaMixin.cqrs_save, "(master_data, previous_data=None, sync=False, meta=None)"),
        (ReplicaMixin.cqrs_create, "(sync, mapped_data, previous_data=None, meta=None)"),
        (ReplicaMixin.cqrs_update, "(self, sync, mapped_data, previous_data=None, meta=None)"),
        (ReplicaMixin.cqrs_delete, "(master_data, meta=None)"),
        (
            ReplicaManager.save_instance,
            "(self, master_data, previous_data=None, sync=False, meta=None)",
        ),
        (
            ReplicaManager.create_instance,
            "(self, mapped_data, previous_data=None, sync=False, meta=None)",
        ),
        (
            ReplicaManager.update_instance,
            "(self, instance, mapped_data, previous_data=None, sync=False, meta=None)",
        ),
        (ReplicaManager.delete_instance, "(self, master_data)"),
        (MasterManager.bulk_update, "(self, queryset, **kwargs)"),
    ],
    ids=lambda value: getattr(value, "__qualname__", "sig"),
)
def test_signatures_match_the_seed(function, signature):
    text = str(inspect.signature(function))
    # Our annotations are not part of the contract: compare names, kinds and defaults only.
    plain = inspect.Signature(
        [
            p.replace(annotation=inspect.Parameter.empty)
            for p in inspect.signature(function).parameters.values()
        ]
    )
    assert str(plain) == signature, text


def test_signal_type_values():
    assert [(s.name, s.value) for s in SignalType] == [
        ("SAVE", "SAVE"),
        ("DELETE", "DELETE"),
        ("SYNC", "SYNC"),
    ]


def test_registries_return_the_model_or_none():
    assert MasterRegistry.get_model_by_cqrs_id("product") is Product
    assert ReplicaRegistry.get_model_by_cqrs_id("product") is ProductReplica
    assert MasterRegistry.get_model_by_cqrs_id("nope") is None
    assert ReplicaRegistry.get_model_by_cqrs_id("nope") is None


def test_transports_have_the_django_cqrs_names():
    from toolkit.cqrs import transport
    from toolkit.cqrs.transport.kombu import KombuTransport
    from toolkit.cqrs.transport.rabbit_mq import RabbitMQTransport

    assert transport.KombuTransport is KombuTransport
    assert transport.RabbitMQTransport is RabbitMQTransport
    assert issubclass(RabbitMQTransport, BaseTransport)
    for name in ("produce", "consume", "clean_connection"):
        assert isinstance(inspect.getattr_static(RabbitMQTransport, name), classmethod)
    with pytest.raises(AttributeError) as excinfo:
        getattr(transport, "PubSubTransport")  # noqa: B009
    assert excinfo.value.args == (
        "module 'toolkit.cqrs.transport' has no attribute 'PubSubTransport'",
    )


def test_base_transport_methods_are_abstract():
    for call in (
        lambda: BaseTransport.produce(mock.sentinel.payload),
        BaseTransport.consume,
        BaseTransport.clean_connection,
    ):
        with pytest.raises(NotImplementedError):
            call()


@override_settings(
    TOOLKIT={
        "cqrs": {
            "transport": "toolkit.cqrs.transport.RabbitMQTransport",
            "broker_url": "redis://127.0.0.1:6379/14",
        }
    }
)
def test_rabbitmq_transport_refuses_a_non_amqp_url():
    from toolkit.cqrs.transport import RabbitMQTransport, get_transport

    assert get_transport() is RabbitMQTransport
    with pytest.raises(TransportError) as excinfo:
        RabbitMQTransport.broker_url()
    assert excinfo.value.args == (
        "RabbitMQTransport needs an AMQP broker URL, not 'redis://127.0.0.1:6379/14' "
        "(scheme 'redis'); valid schemes: 'amqp', 'amqps', 'pyamqp'",
    )


# -- master behaviour -------------------------------------------------------------------------
class MasterApiTests(TestCase):
    def commit(self):
        return self.captureOnCommitCallbacks(execute=True)

    def test_post_bulk_create_and_post_update_signals_reach_receivers(self):
        seen: list[tuple[str, list[str], str]] = []

        def on_create(sender, **kwargs):
            seen.append(("create", [p.sku for p in kwargs["instances"]], kwargs["using"]))

        def on_update(sender, **kwargs):
            seen.append(("update", [p.sku for p in kwargs["instances"]], kwargs["using"]))

        signals.post_bulk_create.connect(on_create, sender=Product)
        signals.post_update.connect(on_update, sender=Product)
        self.addCleanup(signals.post_bulk_create.disconnect, on_create, sender=Product)
        self.addCleanup(signals.post_update.disconnect, on_update, sender=Product)
        with self.commit():
            Product.cqrs.bulk_create([Product(sku="S-1", name="a", price=Decimal(1))])
            Product.cqrs.bulk_update(Product.objects.filter(sku="S-1"), stock=2)
        assert seen == [("create", ["S-1"], "default"), ("update", ["S-1"], "default")]

    def test_master_signals_handlers_take_django_cqrs_sync_and_queue_arguments(self):
        with InProcessTransport.hold(), self.commit():
            product = _product()
        InProcessTransport.clean_connection()
        with InProcessTransport.hold(), self.commit():
            signals.MasterSignals.post_save(Product, instance=product, sync=True, queue="q1")
        (message,) = InProcessTransport.pending()
        assert (message["signal_type"], message["queue"], message["instance_pk"]) == (
            "SYNC",
            "q1",
            product.pk,
        )

    def test_reset_cqrs_saves_count_restarts_the_count(self):
        product = _product()
        with transaction.atomic():
            start = product.cqrs_saves_count  # the creation counts in TestCase's transaction
            product.save()
            product.save()
            assert (product.cqrs_saves_count - start, product.is_initial_cqrs_save) == (2, False)
            product.reset_cqrs_saves_count()
            assert (product.cqrs_saves_count, product.is_initial_cqrs_save) == (0, True)
            product.save()
            assert (product.cqrs_saves_count, product.is_initial_cqrs_save) == (1, True)

    def test_cqrs_sync_is_false_for_unsaved_deleted_or_excluded_instances(self):
        assert Product(sku="new", name="n", price=Decimal(1)).cqrs_sync() is False
        with self.commit():
            product = _product()
        Product.objects.filter(pk=product.pk).delete()  # raw delete: no signal
        assert product.cqrs_sync() is False
        other = _product("SEED-2")
        with mock.patch.object(Product, "is_sync_instance", return_value=False):
            assert other.cqrs_sync() is False

    def test_relate_cqrs_serialization_shapes_the_serializer_queryset(self):
        with self.commit():
            customer = Customer.objects.create(first_name="A", last_name="B", email="a@b.c")
        calls = []
        original = Customer.relate_cqrs_serialization.__func__

        def relate(cls, queryset):
            calls.append(queryset.model)
            return original(cls, queryset)

        with mock.patch.object(Customer, "relate_cqrs_serialization", classmethod(relate)):
            data = customer.to_cqrs_dict()
        assert calls == [Customer]
        assert data["full_name"] == "A B"

    def test_sync_serialises_the_loaded_instance_without_reading_it_again(self):
        with InProcessTransport.hold(), self.commit():
            customer = Customer.objects.create(first_name="A", last_name="B", email="a@b.c")
        InProcessTransport.clean_connection()
        with InProcessTransport.hold(), self.commit():
            with CaptureQueriesContext(connection) as queries:
                assert customer.cqrs_sync() is True
            reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
            assert not any("replication_customer" in sql for sql in reads), reads
            customer.save()  # a save serialises a fresh read through relate_cqrs_serialization
        (message,) = InProcessTransport.pending()
        assert (message["signal_type"], message["instance_data"]["full_name"]) == ("SAVE", "A B")

    def test_custom_delete_data_goes_into_the_delete_payload(self):
        with self.commit():
            product = _product()
        with (
            mock.patch.object(
                Product, "get_custom_cqrs_delete_data", return_value={"reason": "discontinued"}
            ),
            InProcessTransport.hold(),
            self.commit(),
        ):
            product.delete()
        (message,) = InProcessTransport.pending()
        assert (message["signal_type"], message["instance_data"]["custom"]) == (
            "DELETE",
            {"reason": "discontinued"},
        )

    def test_bulk_update_that_empties_its_own_filter_still_publishes_every_row(self):
        # django-cqrs #106: re-reading the filtered queryset after the update found nothing.
        with self.commit():
            Product.cqrs.bulk_create(
                [Product(sku=f"A-{i}", name="a", price=Decimal(1)) for i in range(3)]
            )
        with self.commit():
            count = Product.cqrs.bulk_update(
                Product.objects.filter(is_active=True), is_active=False
            )
        assert count == 3
        assert (
            list(ProductReplica.objects.values_list("is_active", "cqrs_revision"))
            == [(False, 1)] * 3
        )

    def test_bulk_update_sends_the_tracked_fields_previous_values(self):
        with self.commit():
            customer = Customer.objects.create(first_name="A", last_name="B", email="a@b.c")
        with InProcessTransport.hold(), self.commit():
            Customer.cqrs.bulk_update(Customer.objects.filter(pk=customer.pk), tier="gold")
        (message,) = InProcessTransport.pending()
        assert message["previous_data"] == {"tier": "standard"}
        InProcessTransport.consume()
        assert CustomerReplica.objects.get(pk=customer.pk).previous_tier == "standard"

    def test_a_bump_rolled_back_with_its_savepoint_is_made_again(self):
        with self.commit():
            product = _product()
            other = _product("SEED-2")
        with self.commit(), transaction.atomic():
            other.save()  # the transaction's buffer exists before the savepoint
            try:
                with transaction.atomic():
                    product.stock = 5
                    product.save()
                    raise RuntimeError("undo the savepoint")
            except RuntimeError:
                pass
            product.stock = 6
            product.save(update_fields=["stock"], update_cqrs_fields=True)
        assert Product.objects.get(pk=product.pk).cqrs_revision == 1
        with self.commit():
            product.stock = 7
            product.save(update_fields=["stock"], update_cqrs_fields=True)
        replica = ProductReplica.objects.get(pk=product.pk)
        assert (product.cqrs_revision, replica.stock, replica.cqrs_revision) == (2, 7, 2)

    def test_admin_sync_queryset_hook_adjusts_the_selection(self):
        with InProcessTransport.hold(), self.commit():
            kept, dropped = _product("SEED-A"), _product("SEED-B")
        InProcessTransport.clean_connection()

        class OnlyA(ProductAdmin):
            def _cqrs_sync_queryset(self, queryset):
                return queryset.filter(sku="SEED-A")

        request = RequestFactory().post("/")
        request.user = User(username="staff", is_staff=True, is_superuser=True)
        request.session = {}
        request._messages = FallbackStorage(request)
        with self.commit():
            OnlyA(Product, AdminSite()).sync_items(
                request, Product.objects.filter(pk__in=[kept.pk, dropped.pk])
            )
        assert list(ProductReplica.objects.values_list("sku", flat=True)) == ["SEED-A"]


# -- replica behaviour ------------------------------------------------------------------------
class ReplicaApiTests(TestCase):
    def test_cqrs_save_ignores_older_and_duplicate_revisions_unless_sync(self):
        ProductReplica.cqrs_save(_master_data(1, 1, stock=10))
        with self.assertLogs("toolkit.cqrs.replica", "INFO") as logs:
            ProductReplica.cqrs_save(_master_data(1, 0, stock=1))
            ProductReplica.cqrs_save(_master_data(1, 1, stock=2))
        assert ProductReplica.objects.get(pk=1).stock == 10
        assert logs.output == [
            "ERROR:toolkit.cqrs.replica:CQRS wrong order for product#1: revision 0 is older "
            "than the held 1; ignored",
            "INFO:toolkit.cqrs.replica:CQRS duplicate for product#1: revision 1 ignored",
        ]
        ProductReplica.cqrs_save(_master_data(1, 1, stock=3), sync=True)
        assert ProductReplica.objects.get(pk=1).stock == 3

    def test_cqrs_save_maps_fields_and_cqrs_delete_is_true_even_for_nothing(self):
        replica = ProductReplica.cqrs_save(_master_data(2, 0, stock=4, unknown="dropped"))
        assert (replica.title, replica.stock) == ("Radio", 4)
        assert ProductReplica.cqrs_delete({"id": 2, "cqrs_revision": 1}) is True
        assert ProductReplica.cqrs_delete({"id": 2, "cqrs_revision": 2}) is True
        assert not ProductReplica.objects.exists()

    def test_meta_reaches_cqrs_create_only_with_cqrs_meta(self):
        with mock.patch.object(
            ProductReplica, "cqrs_create", wraps=ProductReplica.cqrs_create
        ) as create:
            ProductReplica.cqrs_save(_master_data(3, 0, stock=1), meta={"source": "x"})
        assert create.call_args.kwargs["meta"] is None
        data = {
            "id": 4,
            "full_name": "A B",
            "email": "a@b.c",
            "tier": "gold",
            "cqrs_revision": 0,
            "cqrs_updated": "2026-01-01T00:00:00+00:00",
        }
        assert CustomerReplica.cqrs_save(data, meta={"source": "crm"}).source == "crm"

    @pytest.mark.postgres
    def test_select_for_update_locks_the_replica_row(self):
        services.require_postgres_db()  # SQLite has no row locks: Django drops FOR UPDATE
        ProductReplica.cqrs_save(_master_data(5, 0, stock=1))
        for flag, locked in ((False, False), (True, True)):
            with (
                mock.patch.object(ProductReplica, "CQRS_SELECT_FOR_UPDATE", flag),
                CaptureQueriesContext(connection) as queries,
                transaction.atomic(),
            ):
                ProductReplica.cqrs_save(_master_data(5, 1 + flag, stock=2 + flag))
            select = next(q["sql"] for q in queries if q["sql"].startswith("SELECT"))
            assert select.endswith("FOR UPDATE") is locked, select
        assert ProductReplica.objects.get(pk=5).stock == 3

    def test_no_db_operations_requires_overriding_save_and_delete(self):
        with (
            mock.patch.object(ProductReplica, "CQRS_NO_DB_OPERATIONS", True),
            pytest.raises(ImproperlyConfigured) as excinfo,
        ):
            ProductReplica.cqrs_save(_master_data(6, 0, stock=1))
        assert excinfo.value.args == (
            "replication.ProductReplica sets CQRS_NO_DB_OPERATIONS = True, so it must "
            "override cqrs_save() and cqrs_delete()",
        )
        assert not ProductReplica.objects.exists()


class CommandOptionTests(TestCase):
    def test_cqrs_sync_accepts_django_cqrs_short_options(self):
        with InProcessTransport.hold(), self.captureOnCommitCallbacks(execute=True):
            product = _product()
        InProcessTransport.clean_connection()
        out = StringIO()
        with self.captureOnCommitCallbacks(execute=True):
            call_command(
                "cqrs_sync",
                "-cid",
                "product",
                "-f",
                f'{{"id": {product.pk}}}',
                "-p",
                "-b",
                "5",
                stdout=out,
            )
        lines = out.getvalue()
        assert lines.startswith(
            "Processing 1 records with batch size 5\n\r1 of 1 processed - 100% "
        )
        assert lines.endswith("Done!\n1 instance(s) synced.\n1 instance(s) processed.\n")
        assert ProductReplica.objects.filter(pk=product.pk).exists()


@override_settings(
    TOOLKIT={
        "cqrs": {
            "transport": "toolkit.cqrs.transport.KombuTransport",
            "broker_url": "redis://127.0.0.1:6379/14",
        }
    }
)
def test_cqrs_consume_checks_every_cqrs_id_given_with_cid():
    with pytest.raises(CommandError) as excinfo:
        call_command("cqrs_consume", "-cid", "product", "invoice")
    assert excinfo.value.args == ("Wrong CQRS ID: invoice!",)  # django-cqrs' message


class LongSyncTests(TransactionTestCase):
    def test_sync_checks_the_database_connection_between_batches(self):
        for i in range(3):
            _product(f"L-{i}")
        checks = []
        wrapper = type(connections["default"])
        real = wrapper.close_if_unusable_or_obsolete

        def check(self):
            checks.append(self.alias)
            return real(self)

        with mock.patch.object(wrapper, "close_if_unusable_or_obsolete", check):
            result = sync_queryset(Product.objects.all(), batch_size=2)
        assert (result.total, result.synced, checks) == (3, 3, ["default", "default"])
