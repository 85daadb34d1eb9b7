"""validate_event_schemas, and the store chosen from settings."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

from tests import services
from toolkit.eventsourcing.backends.redis import RedisEventStoreBackend
from toolkit.patterns.event_store import EventStore


def summary(problems: int) -> str:
    """The command's last line for the configured directories (apps may ship schemas too)."""
    from toolkit.eventsourcing import config
    from toolkit.eventsourcing.schemas import SchemaRegistry

    dirs = config.schema_dirs()
    files = sum(len(v) for v in SchemaRegistry.from_dirs(dirs).schemas.values())
    where = "directory" if len(dirs) == 1 else "directories"
    return f"{files} schema file(s) in {len(dirs)} {where}; {problems} problem(s).\n"


def schema_dir(tmp_path: Path) -> Path:
    (tmp_path / "order").mkdir()
    (tmp_path / "order" / "v1_order_paid.json").write_text(
        json.dumps({"type": "object", "properties": {"total": {"type": "number"}}})
    )
    return tmp_path


def test_validate_event_schemas_reports_files(tmp_path: Path, settings) -> None:
    settings.TOOLKIT = {"eventsourcing": {"schema_dirs": [str(schema_dir(tmp_path))]}}
    out = io.StringIO()
    call_command("validate_event_schemas", stdout=out)
    assert out.getvalue() == summary(0)
    (tmp_path / "order" / "v2_order_paid.json").write_text("[")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("validate_event_schemas", stdout=out, stderr=err)
    assert info.value.code == 1
    assert err.getvalue().startswith(f"{tmp_path / 'order' / 'v2_order_paid.json'}: not valid JSON")
    assert out.getvalue() == summary(1)


@pytest.mark.django_db
def test_validate_event_schemas_checks_stored_events(tmp_path: Path, settings) -> None:
    settings.TOOLKIT = {"eventsourcing": {"schema_dirs": [str(schema_dir(tmp_path))]}}
    store = EventStore()
    store.append("o-1", "Order", "OrderPaid", {"total": 3})
    store.append("o-2", "Order", "OrderPaid", {"total": "three"})  # validation is off
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit):
        call_command("validate_event_schemas", "--events", stdout=out, stderr=err)
    assert err.getvalue() == "o-2#1: OrderPaid at 'total': 'three' is not of type 'number'\n"
    assert out.getvalue() == summary(1)


@pytest.mark.django_db
def test_validate_on_append_setting_rejects_bad_payloads(tmp_path: Path, settings) -> None:
    from toolkit.patterns.exceptions import SchemaValidationError

    settings.TOOLKIT = {
        "eventsourcing": {"schema_dirs": [str(schema_dir(tmp_path))], "validate_on_append": True}
    }
    store = EventStore()
    with pytest.raises(SchemaValidationError):
        store.append("o-1", "Order", "OrderPaid", {"total": "three"})
    assert store.load("o-1") == []


def test_redis_backend_from_settings(settings) -> None:
    services.require_redis()
    prefix = f"test:es:{uuid.uuid4().hex}"
    settings.TOOLKIT = {
        "patterns": {"event_store_backend": "redis"},
        "eventsourcing": {"redis_url": "redis://127.0.0.1:6379/13", "redis_prefix": prefix},
    }
    store = EventStore()
    assert isinstance(store.backend, RedisEventStoreBackend)
    try:
        store.append("r-1", "Order", "OrderCreated", {})
        assert store.backend.client.connection_pool.connection_kwargs["db"] == 13
        assert [e.event_type for e in EventStore().load("r-1")] == ["OrderCreated"]
    finally:
        store.backend.clear()
