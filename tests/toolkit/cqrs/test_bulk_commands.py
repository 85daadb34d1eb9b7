"""``cqrs_bulk_dump`` / ``cqrs_bulk_load`` as django-cqrs 3.1.0 documents and implements them."""

from __future__ import annotations

import io
from contextlib import redirect_stderr
from decimal import Decimal

import pytest
import ujson
from django.core.management import CommandError, call_command

from demo.replication.models import Product, ProductReplica
from toolkit.cqrs.models import CqrsReplicaRevision
from toolkit.cqrs.transport.inprocess import InProcessTransport


def _run(*args: str) -> str:
    err = io.StringIO()
    with redirect_stderr(err):
        call_command(*args)
    return err.getvalue()


@pytest.fixture
def products(db):
    with InProcessTransport.hold():  # the replica must learn them from the dump only
        made = [
            Product.objects.create(sku=f"D-{n}", name=f"Dumped {n}", price=Decimal("2.50"))
            for n in range(3)
        ]
    InProcessTransport.clean_connection()
    return made


def test_dump_then_load_fills_the_replica(products, tmp_path):
    path = tmp_path / "product.dump"
    assert _run("cqrs_bulk_dump", "--cqrs-id", "product", "-o", str(path)) == (
        "Done!\n3 instance(s) saved.\n3 instance(s) processed.\n"
    )
    lines = path.read_text().split("\n")
    assert lines[0] == "product"
    assert lines[1:] == [ujson.dumps(p.to_cqrs_dict()) for p in products]
    assert not ProductReplica.objects.exists()
    assert _run("cqrs_bulk_load", "-i", str(path)) == "Done!\n3 instance(s) loaded.\n"
    assert sorted(ProductReplica.objects.values_list("title", flat=True)) == [
        "Dumped 0",
        "Dumped 1",
        "Dumped 2",
    ]
    # Loaded as SYNCs through the consumer: the revision store knows them.
    assert CqrsReplicaRevision.objects.filter(cqrs_id="product").count() == 3


def test_dump_refuses_an_unknown_cqrs_id_and_an_existing_file(products, tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("cqrs_bulk_dump", "--cqrs-id", "nope")
    assert exc.value.args == ("Wrong CQRS ID: nope!",)
    path = tmp_path / "x.dump"
    path.write_text("old")
    with pytest.raises(CommandError) as exc:
        call_command("cqrs_bulk_dump", "-c", "product", "-o", str(path))
    assert exc.value.args == (f"File {path} exists!",)
    _run("cqrs_bulk_dump", "-c", "product", "-o", str(path), "--force", "--batch", "2")
    assert len(path.read_text().split("\n")) == 4


def test_load_reports_missing_empty_and_unknown_files(db, tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("cqrs_bulk_load", "-i", str(tmp_path / "none"))
    assert exc.value.args == (f"File {tmp_path / 'none'} doesn't exist!",)
    empty = tmp_path / "empty.dump"
    empty.write_text("")
    with pytest.raises(CommandError) as exc:
        call_command("cqrs_bulk_load", "-i", str(empty))
    assert exc.value.args == (f"File {empty} is empty!",)
    unknown = tmp_path / "unknown.dump"
    unknown.write_text("nope\n{}")
    with pytest.raises(CommandError) as exc:
        call_command("cqrs_bulk_load", "-i", str(unknown))
    assert exc.value.args == ("Wrong CQRS ID: nope!",)


def test_load_skips_bad_lines_and_goes_on(products, tmp_path):
    path = tmp_path / "product.dump"
    good = ujson.dumps(products[0].to_cqrs_dict())
    incomplete = ujson.dumps({"id": 77, "cqrs_revision": 0})  # the replica refuses it
    path.write_text("\n".join(["product", "not json", good, incomplete]))
    out = _run("cqrs_bulk_load", "-i", str(path), "--clear", "yes")
    assert out == (
        "Dump file can't be parsed: line 2!\n"
        "Instance can't be saved: line 4!\n"
        "Done!\n1 instance(s) loaded.\n"
    )
    assert list(ProductReplica.objects.values_list("title", flat=True)) == ["Dumped 0"]


def test_a_batch_below_1_is_refused_before_any_file_or_table_is_touched(products, tmp_path):
    """A zero batch wrote nothing in an endless loop (load) or failed half way (dump); both
    commands now refuse it first: no dump file is created, ``--clear`` deletes nothing."""
    path = tmp_path / "product.dump"
    for batch in ("0", "-3"):
        with pytest.raises(CommandError) as exc:
            call_command("cqrs_bulk_dump", "-c", "product", "-o", str(path), "--batch", batch)
        assert exc.value.args == (f"--batch must be >= 1, not {int(batch)}",)
        assert not path.exists()
    _run("cqrs_bulk_dump", "-c", "product", "-o", str(path))
    _run("cqrs_bulk_load", "-i", str(path))
    for batch in ("0", "-3"):
        with pytest.raises(CommandError) as exc:
            call_command("cqrs_bulk_load", "-i", str(path), "--clear", "true", "--batch", batch)
        assert exc.value.args == (f"--batch must be >= 1, not {int(batch)}",)
    assert ProductReplica.objects.count() == 3
