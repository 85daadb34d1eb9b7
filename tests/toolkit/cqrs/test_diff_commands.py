"""The diff commands as django-cqrs 3.1.0 documents and implements them: the master/replica
streams, their header lines, batches, messages and errors, and the pipelines
``cqrs_diff_master | cqrs_diff_replica | cqrs_diff_sync`` and
``cqrs_deleted_diff_replica | cqrs_deleted_diff_master | cqrs_deleted_sync_replica``."""

from __future__ import annotations

import io
import re
import sys
from decimal import Decimal

import pytest
import ujson
from django.core.management import CommandError, call_command

from demo.replication.models import Product, ProductReplica
from toolkit.cqrs.transport.inprocess import InProcessTransport

HEADER = re.compile(r"^product,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$")


def run(monkeypatch, *args: str, stdin: str | None = None, **options) -> tuple[str, str]:
    """Run a command as a pipeline stage: ``stdin`` in; its stdout and stderr text out."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


# Messages are published on commit: the tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def products(transactional_db):
    return [
        Product.objects.create(sku=f"P-{n}", name=f"Product {n}", price=Decimal("1.50"))
        for n in range(3)
    ]


def test_diff_master_streams_pk_revision_pairs_in_batches(products, monkeypatch):
    # (The test's transaction would count every save as one: set the revision directly.)
    Product.objects.filter(pk=products[1].pk).update(cqrs_revision=1)
    out, err = run(monkeypatch, "cqrs_diff_master", "--cqrs-id=product", "--batch=2")
    header, *lines = out.splitlines()
    assert HEADER.match(header), header
    assert lines == [
        ujson.dumps([[products[0].pk, 0], [products[1].pk, 1]]),
        ujson.dumps([[products[2].pk, 0]]),
    ]
    assert err == ""


def test_diff_master_filter_and_its_errors(products, monkeypatch):
    out, _ = run(
        monkeypatch, "cqrs_diff_master", "-cid", "product", "-f", f'{{"pk": {products[2].pk}}}'
    )
    assert out.splitlines()[1:] == [ujson.dumps([[products[2].pk, 0]])]
    out, err = run(monkeypatch, "cqrs_diff_master", "-cid", "product", "-f", '{"sku": "none"}')
    assert (out, err) == ("", "No objects found for filter!\n")
    for bad, message in [
        ("[1]", "Bad filter kwargs!"),
        ("{nope", "Bad filter kwargs!"),
    ]:
        with pytest.raises(CommandError) as exc:
            run(monkeypatch, "cqrs_diff_master", "-cid", "product", "-f", bad)
        assert exc.value.args == (message,)
    with pytest.raises(CommandError, match=r"^Bad filter kwargs! Cannot resolve keyword 'x'"):
        run(monkeypatch, "cqrs_diff_master", "-cid", "product", "-f", '{"x": 1}')
    with pytest.raises(CommandError) as exc:
        run(monkeypatch, "cqrs_diff_master", "-cid", "nope")
    assert exc.value.args == ("Wrong CQRS ID: nope!",)


def test_diff_pipeline_resyncs_stale_and_missing_replicas(products, monkeypatch):
    with InProcessTransport.hold():  # the replica misses these changes
        products[1].name = "Renamed"
        products[1].save()
        Product.objects.filter(pk=products[1].pk).update(cqrs_revision=1)
        late = Product.objects.create(sku="P-late", name="Late", price=Decimal("3"))
    InProcessTransport.clean_connection()
    assert not ProductReplica.objects.filter(pk=late.pk).exists()

    master_out, _ = run(monkeypatch, "cqrs_diff_master", "--cqrs-id=product")
    replica_out, replica_err = run(monkeypatch, "cqrs_diff_replica", stdin=master_out)
    header, *lines = replica_out.splitlines()
    assert header == f"{master_out.splitlines()[0]},cqrs_replica"
    assert [sorted(ujson.loads(line)) for line in lines] == [sorted([products[1].pk, late.pk])]
    assert replica_err == f"PK to resync: {set(ujson.loads(lines[0]))}\n"

    sync_out, _ = run(monkeypatch, "cqrs_diff_sync", stdin=replica_out)
    assert sync_out == "Done!\n2 instance(s) synced.\n2 instance(s) processed.\n"
    assert dict(ProductReplica.objects.values_list("pk", "title")) == {
        p.pk: p.name for p in Product.objects.all()
    }
    # Nothing left to resync: only the header passes through.
    again, err = run(
        monkeypatch,
        "cqrs_diff_replica",
        stdin=run(monkeypatch, "cqrs_diff_master", "--cqrs-id=product")[0],
    )
    assert len(again.splitlines()) == 1
    assert err == ""


def test_diff_sync_sends_to_the_queue_named_in_the_header(products, monkeypatch):
    sent = []
    monkeypatch.setattr(InProcessTransport, "produce", classmethod(lambda cls, p: sent.append(p)))
    stream = f"product,2026-01-01 00:00:00+00:00,other_queue\n[{products[0].pk}]\n"
    run(monkeypatch, "cqrs_diff_sync", stdin=stream)
    assert [(p.signal_type, p.pk, p.queue) for p in sent] == [
        ("SYNC", products[0].pk, "other_queue")
    ]
    sent.clear()
    run(monkeypatch, "cqrs_diff_sync", stdin=f"product,x,None\n[{products[0].pk}]\n")
    assert [p.queue for p in sent] == [None]


@pytest.mark.parametrize(
    "command",
    [
        "cqrs_diff_replica",
        "cqrs_diff_sync",
        "cqrs_deleted_diff_master",
        "cqrs_deleted_sync_replica",
    ],
)
def test_stream_readers_reject_an_unknown_header_and_bad_lines(monkeypatch, command):
    with pytest.raises(CommandError) as exc:
        run(monkeypatch, command, stdin="nope,2026-01-01\n[1]\n")
    assert exc.value.args == ("Wrong CQRS ID: nope!",)
    with pytest.raises(CommandError) as exc:
        run(monkeypatch, command, stdin="")
    assert exc.value.args == ("Wrong CQRS ID: !",)
    with pytest.raises(CommandError, match=r"^Line 2 of the input is not JSON"):
        run(monkeypatch, command, stdin="product,x,None\n[1,\n")


def test_deleted_pipeline_removes_replicas_of_deleted_masters(products, monkeypatch):
    with InProcessTransport.hold():
        gone = products[0].pk
        products[0].delete()
    InProcessTransport.clean_connection()
    assert ProductReplica.objects.filter(pk=gone).exists()

    replica_out, err = run(
        monkeypatch, "cqrs_deleted_diff_replica", "--cqrs-id=product", "--batch=2"
    )
    header, *lines = replica_out.splitlines()
    assert HEADER.match(header) and err == ""
    assert lines == [ujson.dumps([gone, products[1].pk]), ujson.dumps([products[2].pk])]

    master_out, err = run(monkeypatch, "cqrs_deleted_diff_master", stdin=replica_out)
    assert master_out.splitlines() == [header, ujson.dumps([gone])]
    assert err == f"PK to delete: {[gone]}\n"

    out, err = run(monkeypatch, "cqrs_deleted_sync_replica", stdin=master_out)
    assert (out, err) == ("", "")
    assert sorted(ProductReplica.objects.values_list("pk", flat=True)) == [
        products[1].pk,
        products[2].pk,
    ]


def test_deleted_diff_replica_filter_and_errors(products, monkeypatch):
    out, err = run(monkeypatch, "cqrs_deleted_diff_replica", "-cid", "product", "-f", '{"pk": 0}')
    assert (out, err) == ("", "No objects found for filter!\n")
    out, _ = run(
        monkeypatch,
        "cqrs_deleted_diff_replica",
        "-cid",
        "product",
        "-f",
        f'{{"title": "{products[1].name}"}}',
    )
    assert out.splitlines()[1:] == [ujson.dumps([products[1].pk])]
    with pytest.raises(CommandError) as exc:
        run(monkeypatch, "cqrs_deleted_diff_replica", "-cid", "nope")
    assert exc.value.args == ("Wrong CQRS ID: nope!",)
    with pytest.raises(CommandError, match=r"^Bad filter kwargs! Cannot resolve keyword 'name'"):
        run(monkeypatch, "cqrs_deleted_diff_replica", "-cid", "product", "-f", '{"name": 1}')
