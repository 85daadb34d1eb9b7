"""Master → replica over the in-process transport: revisions, dedupe, deletes, bulk writes."""

from __future__ import annotations

import json
from decimal import Decimal
from unittest import mock

from django.db import connection, transaction
from django.test import TestCase, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext

from demo.replication.models import Customer, CustomerReplica, Product, ProductReplica
from toolkit.cqrs.constants import Outcome
from toolkit.cqrs.consumer import consume_body, stats
from toolkit.cqrs.models import CqrsOutbox, CqrsReplicaRevision, CqrsRevisionGap
from toolkit.cqrs.producer import publish_pending
from toolkit.cqrs.transport.inprocess import InProcessTransport


def _product(sku="P-1", **kwargs):
    values = {"sku": sku, "name": "Lamp", "price": Decimal("9.50"), "stock": 3}
    values.update(kwargs)
    return Product.objects.create(**values)


class ReplicationTests(TestCase):
    def commit(self):
        return self.captureOnCommitCallbacks(execute=True)

    def test_create_replicates_after_commit_with_mapping(self):
        with self.commit(), transaction.atomic():
            product = _product()
            assert not ProductReplica.objects.exists()
        replica = ProductReplica.objects.get(pk=product.pk)
        assert (replica.sku, replica.title, replica.price, replica.stock) == (
            "P-1",
            "Lamp",
            Decimal("9.50"),
            3,
        )
        assert replica.cqrs_revision == 0
        assert not CqrsOutbox.objects.exists()

    def test_each_committed_update_bumps_the_revision_once(self):
        with self.commit():
            product = _product()
        with self.commit():
            product.name = "Desk lamp"
            product.save()
        with self.commit():
            product.stock = 9
            product.save()
        product.refresh_from_db()
        assert product.cqrs_revision == 2
        replica = ProductReplica.objects.get(pk=product.pk)
        assert (replica.title, replica.stock, replica.cqrs_revision) == ("Desk lamp", 9, 2)

    def test_several_saves_in_one_transaction_send_one_message(self):
        with self.commit():
            product = _product()
        with InProcessTransport.hold(), self.commit(), transaction.atomic():
            for stock in (4, 5, 6):
                product.stock = stock
                product.save()
            assert product.cqrs_saves_count == 3
            assert not product.is_initial_cqrs_save
        messages = InProcessTransport.pending()
        assert [(m["signal_type"], m["instance_data"]["stock"]) for m in messages] == [("SAVE", 6)]
        assert messages[0]["instance_data"]["cqrs_revision"] == 1
        assert product.cqrs_saves_count == 0
        InProcessTransport.consume()
        assert ProductReplica.objects.get(pk=product.pk).stock == 6

    def test_instance_created_and_deleted_before_commit_sends_nothing(self):
        with InProcessTransport.hold(), self.commit(), transaction.atomic():
            product = _product()
            product.name = "Renamed"
            product.save()
            product.delete()
        assert InProcessTransport.pending() == []
        assert not CqrsOutbox.objects.exists()

    def test_update_then_delete_in_one_transaction_sends_only_the_delete(self):
        with self.commit():
            product = _product()
        pk = product.pk
        with InProcessTransport.hold(), self.commit(), transaction.atomic():
            product.name = "Renamed"
            product.save()
            product.delete()
        messages = InProcessTransport.pending()
        assert [(m["signal_type"], m["instance_data"]["cqrs_revision"]) for m in messages] == [
            ("DELETE", 1)
        ]
        InProcessTransport.consume()
        assert not ProductReplica.objects.filter(pk=pk).exists()
        assert CqrsReplicaRevision.objects.get(cqrs_id="product", instance_pk=str(pk)).deleted

    def test_late_save_after_delete_does_not_resurrect_the_replica(self):
        with InProcessTransport.hold():
            with self.commit():
                product = _product()
            pk = product.pk
            with self.commit():
                product.delete()
            create, delete = list(InProcessTransport._queue)
            InProcessTransport._queue.clear()
        assert consume_body(delete) is Outcome.APPLIED
        assert consume_body(create) is Outcome.STALE
        assert not ProductReplica.objects.filter(pk=pk).exists()

    def test_rollback_sends_nothing_and_leaves_no_outbox_row(self):
        with InProcessTransport.hold(), self.commit():
            try:
                with transaction.atomic():
                    _product()
                    raise RuntimeError("boom")
            except RuntimeError:
                pass
        assert InProcessTransport.pending() == []
        assert not CqrsOutbox.objects.exists()
        assert not ProductReplica.objects.exists()

    def test_bulk_create_replicates_every_instance(self):
        with self.commit():
            created = Product.cqrs.bulk_create(
                [Product(sku=f"B-{i}", name=f"Item {i}", price=Decimal(i)) for i in range(5)]
            )
        assert sorted(ProductReplica.objects.values_list("pk", flat=True)) == sorted(
            p.pk for p in created
        )

    def test_bulk_update_replicates_every_row_and_bumps_revisions_once(self):
        with self.commit():
            Product.cqrs.bulk_create(
                [Product(sku=f"U-{i}", name="x", price=Decimal(1)) for i in range(4)]
            )
        with InProcessTransport.hold(), self.commit(), transaction.atomic():
            count = Product.cqrs.bulk_update(
                Product.objects.filter(sku__in=["U-0", "U-1"]), stock=7
            )
            Product.cqrs.bulk_update(Product.objects.filter(sku="U-0"), name="again")
        assert count == 2
        messages = InProcessTransport.pending()
        assert sorted(
            (m["instance_data"]["sku"], m["instance_data"]["name"], m["instance_data"]["stock"])
            for m in messages
        ) == [("U-0", "again", 7), ("U-1", "x", 7)]
        InProcessTransport.consume()
        assert dict(Product.objects.values_list("sku", "cqrs_revision")) == {
            "U-0": 1,
            "U-1": 1,
            "U-2": 0,
            "U-3": 0,
        }
        replicas = {
            r.sku: (r.stock, r.title, r.cqrs_revision) for r in ProductReplica.objects.all()
        }
        assert replicas == {
            "U-0": (7, "again", 1),
            "U-1": (7, "x", 1),
            "U-2": (0, "x", 0),
            "U-3": (0, "x", 0),
        }

    def test_bulk_update_of_nothing_returns_zero(self):
        assert Product.cqrs.bulk_update(Product.objects.none(), stock=1) == 0

    def test_out_of_order_delivery_keeps_the_newest_state(self):
        with InProcessTransport.hold():
            with self.commit():
                product = _product()
            for stock in (10, 20):
                with self.commit():
                    product.stock = stock
                    product.save()
            bodies = list(InProcessTransport._queue)
            InProcessTransport._queue.clear()
        outcomes = [consume_body(body) for body in reversed(bodies)]
        assert outcomes == [Outcome.APPLIED, Outcome.STALE, Outcome.STALE]
        replica = ProductReplica.objects.get(pk=product.pk)
        assert (replica.stock, replica.cqrs_revision) == (20, 2)

    def test_duplicate_delivery_is_ignored(self):
        with InProcessTransport.hold(), self.commit():
            product = _product()
        (body,) = InProcessTransport._queue
        assert consume_body(body) is Outcome.APPLIED
        ProductReplica.objects.filter(pk=product.pk).update(stock=99)
        assert consume_body(body) is Outcome.DUPLICATE
        assert ProductReplica.objects.get(pk=product.pk).stock == 99
        assert stats[Outcome.DUPLICATE] == 1

    def test_revision_gap_is_applied_and_recorded(self):
        with InProcessTransport.hold():
            with self.commit():
                product = _product()
            for stock in (1, 2):
                with self.commit():
                    product.stock = stock
                    product.save()
            first, _lost, third = list(InProcessTransport._queue)
            InProcessTransport._queue.clear()
        # Logged at INFO: a gap is reported (panel, status) only after the grace period.
        with self.assertLogs("toolkit.cqrs.consumer", "INFO") as logs:
            consume_body(first)
            assert consume_body(third) is Outcome.APPLIED
        gap = CqrsRevisionGap.objects.get()
        assert (gap.cqrs_id, gap.instance_pk, gap.expected, gap.received) == (
            "product",
            str(product.pk),
            1,
            2,
        )
        assert logs.output == [
            f"INFO:toolkit.cqrs.consumer:CQRS revision gap on product#{product.pk}: "
            "held r0, received r2"
        ]
        assert ProductReplica.objects.get(pk=product.pk).stock == 2

    def test_sync_repairs_a_replica_at_the_same_revision(self):
        with self.commit():
            product = _product()
        ProductReplica.objects.filter(pk=product.pk).delete()
        with self.commit():
            assert product.cqrs_sync() is True
        assert ProductReplica.objects.get(pk=product.pk).title == "Lamp"

    def test_sync_for_another_queue_is_skipped(self):
        with self.commit():
            product = _product()
        ProductReplica.objects.all().delete()
        with self.commit():
            product.cqrs_sync(queue="billing_replica")
        assert stats[Outcome.OTHER_QUEUE] == 1
        assert not ProductReplica.objects.exists()
        with self.commit():
            product.cqrs_sync(queue="cqrs_replica")
        assert ProductReplica.objects.filter(pk=product.pk).exists()

    def test_custom_serializer_tracked_fields_and_meta(self):
        with self.commit():
            customer = Customer.objects.create(
                first_name="Ada", last_name="Lovelace", email="ada@example.org"
            )
        with self.commit():
            customer.tier = "gold"
            customer.email = "ada@analytical.engine"
            customer.save()
        replica = CustomerReplica.objects.get(pk=customer.pk)
        assert (
            replica.display_name,
            replica.email_domain,
            replica.tier,
            replica.previous_tier,
            replica.source,
            replica.cqrs_revision,
        ) == ("Ada Lovelace", "analytical.engine", "gold", "standard", "accounts", 1)

    def test_tracked_fields_report_values_from_before_the_transaction(self):
        with self.commit():
            customer = Customer.objects.create(first_name="A", last_name="B", email="a@b.c")
        with InProcessTransport.hold(), self.commit(), transaction.atomic():
            customer.tier = "silver"
            customer.save()
            customer.tier = "gold"
            customer.save()
        (message,) = InProcessTransport.pending()
        assert message["previous_data"] == {"tier": "standard"}
        assert message["instance_data"]["tier"] == "gold"
        assert message["meta"] == {"source": "accounts"}

    def test_an_update_reads_its_new_revision_back_once(self):
        # post_save serialises the instance (reading F("cqrs_revision") + 1 back); save() must
        # not read it a second time.
        for model, make in ((Product, _product), (Customer, _customer)):
            with self.commit():
                instance = make()
            with InProcessTransport.hold():
                with CaptureQueriesContext(connection) as queries, self.commit():
                    instance.save()
                InProcessTransport.clean_connection()
            table = model._meta.db_table
            # refresh_from_db(fields=["cqrs_revision"]): the pk and that column only.
            revision_read = f'SELECT "{table}"."id", "{table}"."cqrs_revision" FROM "{table}"'
            reads = [
                q["sql"] for q in queries.captured_queries if q["sql"].startswith(revision_read)
            ]
            assert len(reads) == 1, reads
            assert instance.cqrs_revision == 1

    def test_a_serializer_payload_is_made_at_commit(self):
        # django-cqrs serialises a CQRS_SERIALIZER model on commit: what the transaction does
        # after the save (here a queryset update, which sends no signal) reaches the replica.
        with InProcessTransport.hold(), self.commit(), transaction.atomic():
            customer = Customer.objects.create(first_name="Ada", last_name="B", email="a@b.c")
            Customer.objects.filter(pk=customer.pk).update(last_name="Lovelace")
        (message,) = InProcessTransport.pending()
        assert message["instance_data"]["full_name"] == "Ada Lovelace"
        assert message["instance_data"]["cqrs_revision"] == 0
        assert message["meta"] == {"source": "accounts"}
        InProcessTransport.consume()
        assert CustomerReplica.objects.get(pk=customer.pk).display_name == "Ada Lovelace"

    def test_serializer_models_of_one_commit_are_read_in_one_query(self):
        with InProcessTransport.hold(), self.commit(), transaction.atomic():
            made = [
                Customer.objects.create(first_name=f"C{i}", last_name="X", email=f"{i}@x.io")
                for i in range(5)
            ]
        InProcessTransport.clean_connection()
        with InProcessTransport.hold():
            with CaptureQueriesContext(connection) as queries, self.commit(), transaction.atomic():
                for customer in made:
                    customer.tier = "gold"
                    customer.save()
            assert len(InProcessTransport.pending()) == len(made)
        # At publish: one existence check and one read through relate_cqrs_serialization for
        # all five (the reads per save are by primary key, without IN).
        publish_reads = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].startswith("SELECT")
            and "replication_customer" in q["sql"]
            and " IN (" in q["sql"]
        ]
        assert len(publish_reads) == 2, publish_reads
        InProcessTransport.clean_connection()

    def test_an_instance_left_out_by_relate_cqrs_serialization_is_logged_not_sent(self):
        # django-cqrs: create() succeeds; on commit "Can't produce message ... doesn't exist".
        def relate(queryset):
            return queryset.exclude(last_name="Hidden")

        with (
            mock.patch.object(Customer, "relate_cqrs_serialization", relate),
            self.assertLogs("toolkit.cqrs.producer", "ERROR") as logs,
            InProcessTransport.hold(),
        ):
            with self.commit():
                hidden = Customer.objects.create(first_name="A", last_name="Hidden", email="h@x")
                shown = Customer.objects.create(first_name="A", last_name="Shown", email="s@x")
            pending = InProcessTransport.pending()
        assert [m["instance_pk"] for m in pending] == [shown.pk]
        assert logs.output == [
            "ERROR:toolkit.cqrs.producer:Can't produce message from master model 'Customer': "
            f"The instance doesn't exist (pk={hidden.pk})"
        ]
        assert not CqrsOutbox.objects.exists()
        InProcessTransport.clean_connection()

    def test_a_pending_serializer_message_is_serialised_when_published(self):
        # The broker refused it at commit: the outbox row waits; when it is published later the
        # committed instance is serialised then (as the replica must see it now).
        failing = {
            "cqrs": {"transport": "tests.toolkit.cqrs.test_commands_and_settings.FailingTransport"}
        }
        with override_settings(TOOLKIT=failing), self.commit():
            customer = Customer.objects.create(first_name="Ada", last_name="B", email="a@b.c")
        assert CqrsOutbox.objects.count() == 1
        Customer.objects.filter(pk=customer.pk).update(last_name="Lovelace")
        with InProcessTransport.hold():
            assert publish_pending() == 1
            (message,) = InProcessTransport.pending()
        assert message["instance_data"]["full_name"] == "Ada Lovelace"
        InProcessTransport.clean_connection()

    def test_cqrs_produce_false_sends_nothing(self):
        Product.CQRS_PRODUCE = False
        try:
            with InProcessTransport.hold(), self.commit():
                _product()
        finally:
            Product.CQRS_PRODUCE = True
        assert InProcessTransport.pending() == []

    def test_to_cqrs_dict_is_json_ready(self):
        product = _product()
        data = product.to_cqrs_dict()
        assert json.loads(json.dumps(data)) == data
        # As django-cqrs' ujson sends a Decimal: a JSON number.
        assert data["price"] == 9.5
        assert data["cqrs_revision"] == 0


class AutocommitTests(TransactionTestCase):
    """Outside any transaction each save is its own commit and publishes at once."""

    def test_save_in_autocommit_publishes_immediately_and_bumps_each_time(self):
        product = _product("A-1")
        assert ProductReplica.objects.get(pk=product.pk).cqrs_revision == 0
        for stock in (1, 2):
            product.stock = stock
            product.save()
            replica = ProductReplica.objects.get(pk=product.pk)
            assert (replica.stock, replica.cqrs_revision) == (stock, stock)
        product.delete()
        assert not ProductReplica.objects.filter(pk=product.pk).exists()
        assert not CqrsOutbox.objects.exists()


def _customer() -> Customer:
    return Customer.objects.create(first_name="Ada", last_name="B", email="a@b.c")
