"""``toolkit.cqrs.controller`` as django-cqrs 3.1.0's ``dj_cqrs.controller``: the producer and
consumer entry points a transport calls, their arguments and results."""

from __future__ import annotations

import inspect
import logging
from decimal import Decimal

import pytest

from demo.replication.models import Product, ProductReplica
from toolkit.cqrs.constants import SignalType
from toolkit.cqrs.controller import consumer, producer
from toolkit.cqrs.dataclasses import TransportPayload
from toolkit.cqrs.models import CqrsReplicaRevision
from toolkit.cqrs.transport.inprocess import InProcessTransport


def _shape(function):
    return [(n, p.kind.name, p.default) for n, p in inspect.signature(function).parameters.items()]


def test_signatures_are_django_cqrs_ones():
    # As dj_cqrs/controller/*.py 3.1.0 define them (dj_cqrs is not imported here: it reads
    # settings.CQRS and registers models of its own).
    empty = inspect.Parameter.empty
    assert _shape(producer.produce) == [("payload", "POSITIONAL_OR_KEYWORD", empty)]
    assert _shape(consumer.consume) == [("payload", "POSITIONAL_OR_KEYWORD", empty)]
    assert _shape(consumer.route_signal_to_replica_model) == [
        ("signal_type", "POSITIONAL_OR_KEYWORD", empty),
        ("cqrs_id", "POSITIONAL_OR_KEYWORD", empty),
        ("instance_data", "POSITIONAL_OR_KEYWORD", empty),
        ("previous_data", "POSITIONAL_OR_KEYWORD", None),
        ("meta", "POSITIONAL_OR_KEYWORD", None),
        ("queue", "POSITIONAL_OR_KEYWORD", None),
    ]


@pytest.fixture
def product(db):
    with InProcessTransport.hold():
        made = Product.objects.create(sku="C-1", name="Chair", price=Decimal("12.00"))
    InProcessTransport.clean_connection()
    return made


def _payload(product, signal=SignalType.SAVE, **data):
    instance_data = {**product.to_cqrs_dict(), **data}
    return TransportPayload(signal, "product", instance_data, product.pk)


def test_consume_applies_and_returns_the_replica_instance(product):
    payload = _payload(product)
    result = consumer.consume(payload)
    assert isinstance(result, ProductReplica) and result.pk == product.pk
    assert ProductReplica.objects.get(pk=product.pk).title == "Chair"
    assert CqrsReplicaRevision.objects.get(cqrs_id="product").revision == 0
    assert payload.instance_data == _payload(product).instance_data  # consumed a copy
    # The same revision again is done with (acknowledged), not applied twice.
    assert consumer.consume(_payload(product, name="Other")) is True
    assert ProductReplica.objects.get(pk=product.pk).title == "Chair"
    delete = {"id": product.pk, "cqrs_revision": 1, "cqrs_updated": "2026-01-01 00:00:00+00:00"}
    assert consumer.route_signal_to_replica_model(SignalType.DELETE, "product", delete) is True
    assert not ProductReplica.objects.exists()


def test_consume_returns_none_for_what_cannot_be_applied(product, caplog):
    caplog.set_level(logging.ERROR)
    data = product.to_cqrs_dict()
    assert consumer.route_signal_to_replica_model("NOPE", "product", data) is None
    assert 'Bad signal type "NOPE" for CQRS_ID "product".' in caplog.text
    assert consumer.route_signal_to_replica_model("SAVE", "unknown", data) is None
    caplog.clear()
    assert consumer.consume(_payload(product, cqrs_revision=None)) is None
    assert f"CQRS SAVE error: pk = {product.pk}, cqrs_revision = None (product)." in caplog.text
    caplog.clear()
    # The replica refuses a row its database rejects: logged, None (a transport retries).
    assert consumer.consume(_payload(product, sku="x" * 500, price="not a number")) is None
    assert "CQRS SAVE error" in caplog.text
    assert not ProductReplica.objects.exists()


def test_only_direct_syncs_skip_other_queues(product, monkeypatch):
    monkeypatch.setattr(ProductReplica, "CQRS_ONLY_DIRECT_SYNCS", True, raising=False)
    data = product.to_cqrs_dict()
    assert consumer.route_signal_to_replica_model("SYNC", "product", data, queue="other") is True
    assert not ProductReplica.objects.exists()
    result = consumer.route_signal_to_replica_model("SYNC", "product", data, queue="cqrs_replica")
    assert isinstance(result, ProductReplica)


def test_produce_hands_the_payload_to_the_transport(product):
    assert producer.produce(_payload(product)) is None
    assert ProductReplica.objects.get(pk=product.pk).title == "Chair"
