"""Schema files: naming, versions, JSON Schema and Avro validation, problems."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from toolkit.eventsourcing.schemas import SchemaRegistry, schema_key, snake
from toolkit.patterns.exceptions import SchemaValidationError
from toolkit.testing.event_store import FakeEventStore

AVRO_CREATED = {
    "name": "todo_created",
    "type": "record",
    "doc": "Sample Event",
    "fields": [
        {"name": "entity_id", "type": "string"},
        {"name": "entity_version", "type": "long"},
        {"name": "domain_event_id", "type": "string"},
        {"name": "label", "type": "string"},
    ],
}


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


@pytest.mark.parametrize(
    ("aggregate_type", "event_type", "key"),
    [
        ("Order", "OrderPaid", "order/paid"),
        ("Order", "Order.Paid", "order/paid"),
        ("Order", "Paid", "order/paid"),
        ("ShoppingCart", "ShoppingCart.ItemAdded", "shopping_cart/item_added"),
        ("HTTPLog", "HTTPLogWritten", "http_log/written"),
    ],
    ids=["seed-style", "nested-class", "bare", "two-words", "acronym"],
)
def test_schema_key_maps_event_types_to_file_names(
    aggregate_type: str, event_type: str, key: str
) -> None:
    assert schema_key(aggregate_type, event_type) == key


def test_snake_case() -> None:
    assert snake("OrderPaid") == "order_paid"
    assert snake("order-paid v2") == "order_paid_v2"


def test_current_version_is_the_highest_file(tmp_path: Path) -> None:
    write(tmp_path / "order" / "v1_order_paid.json", {"type": "object"})
    write(tmp_path / "order" / "v3_order_paid.json", {"type": "object"})
    registry = SchemaRegistry.from_dirs([tmp_path])
    assert registry.versions("Order", "OrderPaid") == [1, 3]
    assert registry.current_version("Order", "OrderPaid") == 3
    assert registry.current_version("Order", "OrderShipped") == 1
    assert registry.problems == []


def test_avro_record_schema_validates_with_envelope_fields(tmp_path: Path) -> None:
    write(tmp_path / "todo" / "v1_todo_created.json", AVRO_CREATED)
    registry = SchemaRegistry.from_dirs([tmp_path])
    envelope = {"entity_id": "t1", "entity_version": 1, "domain_event_id": "x"}
    registry.validate("Todo", "Todo.Created", {"label": "x"}, envelope=envelope)
    with pytest.raises(SchemaValidationError) as info:
        registry.validate("Todo", "Todo.Created", {"label": 5}, envelope=envelope)
    assert (info.value.event_type, info.value.field) == ("Todo.Created", "label")
    assert str(info.value) == "Todo.Created at 'label': 5 is not a valid 'string'"


def test_avro_schema_stores_its_version_with_the_event(tmp_path: Path) -> None:
    write(tmp_path / "todo" / "v1_todo_created.json", AVRO_CREATED)
    write(tmp_path / "todo" / "v2_todo_created.json", AVRO_CREATED)
    store = FakeEventStore(schemas=SchemaRegistry.from_dirs([tmp_path]), validate=True)
    event = store.append("t1", "Todo", "Todo.Created", {"label": "x"})
    assert event.schema_version == 2
    with pytest.raises(SchemaValidationError) as info:
        store.append("t1", "Todo", "Todo.Created", {})
    assert info.value.field == "label"
    assert len(store.load("t1")) == 1


def test_nested_json_schema_errors_name_the_path(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "lines": {
                "type": "array",
                "items": {"type": "object", "properties": {"qty": {"type": "integer"}}},
            }
        },
    }
    write(tmp_path / "order" / "v1_order_created.json", schema)
    registry = SchemaRegistry.from_dirs([tmp_path])
    with pytest.raises(SchemaValidationError) as info:
        registry.validate("Order", "OrderCreated", {"lines": [{"qty": 1}, {"qty": "2"}]})
    assert info.value.field == "lines.1.qty"
    assert str(info.value) == "OrderCreated at 'lines.1.qty': '2' is not of type 'integer'"


def test_require_schemas_rejects_event_types_without_a_file(tmp_path: Path) -> None:
    registry = SchemaRegistry.from_dirs([tmp_path], require_schemas=True)
    with pytest.raises(SchemaValidationError) as info:
        registry.validate("Order", "OrderPaid", {})
    assert str(info.value) == (
        "OrderPaid: no schema file for 'order/paid' (expected order/v1_order_paid.json)"
    )


def test_unknown_version_lists_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path / "order" / "v1_order_paid.json", {"type": "object"})
    registry = SchemaRegistry.from_dirs([tmp_path])
    with pytest.raises(SchemaValidationError) as info:
        registry.validate("Order", "OrderPaid", {}, version=4)
    assert str(info.value) == "OrderPaid: no schema version 4; known versions: 1"


def test_unusable_files_are_reported_as_problems(tmp_path: Path) -> None:
    write(tmp_path / "order" / "order_paid.json", {"type": "object"})
    write(tmp_path / "order" / "v1_cart_paid.json", {"type": "object"})
    write(tmp_path / "order" / "v1_order_broken.json", "{not json")
    write(tmp_path / "order" / "v1_order_list.json", [1])
    write(tmp_path / "order" / "v1_order_bad.json", {"type": "nonsense"})
    write(
        tmp_path / "order" / "v1_order_avro.json",
        {"name": "x", "type": "record", "fields": [{"name": "a", "type": "nope"}]},
    )
    registry = SchemaRegistry.from_dirs([tmp_path, tmp_path / "missing"])
    messages = {p.path.name: p.message for p in registry.problems}
    assert messages["order_paid.json"] == "file name must be v<N>_order_<event>.json inside order/"
    assert messages["v1_cart_paid.json"] == messages["order_paid.json"]
    assert messages["v1_order_broken.json"].startswith("not valid JSON: ")
    assert messages["v1_order_list.json"] == "a schema must be a JSON object"
    assert messages["v1_order_bad.json"].startswith("invalid jsonschema schema: ")
    assert messages["v1_order_avro.json"] == "invalid avro schema: nope"
    assert messages["missing"] == "schema directory does not exist"
    assert registry.schemas == {}


def test_event_classes_get_their_current_version_from_the_files(tmp_path: Path, settings) -> None:
    from tests.toolkit.eventsourcing.test_aggregate import Todo
    from toolkit.eventsourcing.config import apply_event_versions

    write(tmp_path / "todo" / "v1_todo_created.json", AVRO_CREATED)
    write(tmp_path / "todo" / "v2_todo_created.json", AVRO_CREATED)
    settings.TOOLKIT = {"eventsourcing": {"schema_dirs": [str(tmp_path)]}}
    try:
        apply_event_versions()
        assert (Todo.Created.version, Todo.Relabelled.version) == (2, 1)
    finally:
        Todo.Created.version = 1


def test_a_json_schema_without_the_jsonschema_extra_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "jsonschema", None)  # as if the extra were not installed
    write(tmp_path / "order" / "v1_order_paid.json", {"type": "object"})
    registry = SchemaRegistry.from_dirs([tmp_path])
    assert [p.message for p in registry.problems] == [
        "invalid jsonschema schema: Package 'jsonschema' is not installed but required. You "
        "can install it by running `pip install 'django-pattern-toolkit[jsonschema]'` to "
        "install the toolkit with the required extra or 'pip install jsonschema' to install "
        "the package separately"
    ]
    assert registry.schemas == {}
