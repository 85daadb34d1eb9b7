"""Event payload schemas as files, their versions, and validation (pure Python).

Layout, as djangoevents names Avro schemas::

    <schema dir>/<aggregate>/v<N>_<aggregate>_<event>.json

``<aggregate>`` and ``<event>`` are snake_case: aggregate type ``Order`` with event type
``OrderPaid`` or ``Order.Paid`` (or ``Paid``) maps to ``order/v<N>_order_paid.json``. A file is
an Avro record schema when it has ``"type": "record"`` and ``"fields"``; otherwise it is a JSON
Schema (draft 2020-12). The highest ``N`` is the current version of the event type; the facade
stores it with every appended event and upcasters bring older events up to it on load.

Avro schemas may declare djangoevents' envelope fields ``entity_id``, ``entity_version`` and
``domain_event_id``; they are filled from the envelope before validation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from toolkit.core.compat import optional_import
from toolkit.core.exceptions import SchemaValidationError

SchemaKind = Literal["avro", "jsonschema"]

_FILE_RE = re.compile(r"^v(?P<version>[1-9][0-9]*)_(?P<name>[a-z0-9_]+)\.json$")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
#: Avro envelope fields filled from the event envelope (djangoevents' names).
ENVELOPE_FIELDS = ("entity_id", "entity_version", "domain_event_id")


def snake(name: str) -> str:
    """``OrderPaid`` → ``order_paid``; dots, dashes and spaces become underscores."""
    return re.sub(r"[^a-z0-9]+", "_", _CAMEL_RE.sub("_", name).lower()).strip("_")


def schema_key(aggregate_type: str, event_type: str) -> str:
    """The ``<aggregate>/<event>`` key of an event type, e.g. ``order/paid``."""
    aggregate = snake(aggregate_type)
    event = snake(event_type)
    if event.startswith(aggregate + "_") and event != aggregate + "_":
        event = event[len(aggregate) + 1 :]
    return f"{aggregate}/{event}"


@dataclass(frozen=True)
class SchemaFile:
    """One parsed schema file."""

    key: str
    version: int
    kind: SchemaKind
    path: Path
    schema: dict[str, Any]


@dataclass(frozen=True)
class SchemaProblem:
    """A schema file that cannot be used, with the reason."""

    path: Path
    message: str


@dataclass
class SchemaRegistry:
    """Schemas by event key and version, loaded from directories with :meth:`from_dirs`.

    ``require_schemas=True`` makes :meth:`validate` reject event types with no schema file.
    """

    schemas: dict[str, dict[int, SchemaFile]] = field(default_factory=dict)
    problems: list[SchemaProblem] = field(default_factory=list)
    require_schemas: bool = False
    _validators: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dirs(
        cls, dirs: Iterable[str | Path], *, require_schemas: bool = False
    ) -> SchemaRegistry:
        """Load every ``*/v<N>_*.json`` file below each directory; unreadable files are
        listed in ``problems`` instead of raising."""
        registry = cls(require_schemas=require_schemas)
        for directory in dirs:
            registry.load_dir(Path(directory))
        return registry

    def load_dir(self, directory: Path) -> None:
        """Add the schema files of one directory."""
        if not directory.is_dir():
            self.problems.append(SchemaProblem(directory, "schema directory does not exist"))
            return
        for path in sorted(directory.glob("*/*.json")):
            self._load_file(path)

    def _load_file(self, path: Path) -> None:
        aggregate = path.parent.name
        match = _FILE_RE.match(path.name)
        if match is None or not match["name"].startswith(aggregate + "_"):
            self.problems.append(
                SchemaProblem(
                    path,
                    f"file name must be v<N>_{aggregate}_<event>.json inside {aggregate}/",
                )
            )
            return
        version = int(match["version"])
        key = f"{aggregate}/{match['name'][len(aggregate) + 1 :]}"
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.problems.append(SchemaProblem(path, f"not valid JSON: {exc}"))
            return
        if not isinstance(schema, dict):
            self.problems.append(SchemaProblem(path, "a schema must be a JSON object"))
            return
        kind: SchemaKind = (
            "avro" if schema.get("type") == "record" and "fields" in schema else "jsonschema"
        )
        try:
            validator = _build_validator(kind, schema)
        except Exception as exc:
            self.problems.append(SchemaProblem(path, f"invalid {kind} schema: {exc}"))
            return
        versions = self.schemas.setdefault(key, {})
        if version in versions:
            self.problems.append(
                SchemaProblem(
                    path, f"duplicate version {version} of {key!r} ({versions[version].path})"
                )
            )
            return
        versions[version] = SchemaFile(key, version, kind, path, schema)
        self._validators[(key, version)] = validator

    def versions(self, aggregate_type: str, event_type: str) -> list[int]:
        """Known versions of an event type, ascending (empty without schema)."""
        return sorted(self.schemas.get(schema_key(aggregate_type, event_type), {}))

    def current_version(self, aggregate_type: str, event_type: str) -> int:
        """The highest schema version of an event type (1 when it has no schema)."""
        versions = self.schemas.get(schema_key(aggregate_type, event_type))
        return max(versions) if versions else 1

    def validate(
        self,
        aggregate_type: str,
        event_type: str,
        payload: Mapping[str, Any],
        *,
        envelope: Mapping[str, Any] | None = None,
        version: int | None = None,
        require: bool = False,
    ) -> None:
        """Raise :class:`SchemaValidationError` (naming the event type and field) unless
        ``payload`` satisfies the schema of that version (default: the current one). A missing
        schema file is an error when ``require`` or the registry's ``require_schemas`` is set."""
        key = schema_key(aggregate_type, event_type)
        versions = self.schemas.get(key)
        if not versions:
            if self.require_schemas or require:
                raise SchemaValidationError(
                    event_type,
                    f"no schema file for {key!r} (expected {key.split('/')[0]}/v1_"
                    f"{key.replace('/', '_')}.json)",
                )
            return
        number = version if version is not None else max(versions)
        schema = versions.get(number)
        if schema is None:
            known = ", ".join(str(v) for v in sorted(versions))
            raise SchemaValidationError(
                event_type, f"no schema version {number}; known versions: {known}"
            )
        validator = self._validators[(key, number)]
        if schema.kind == "avro":
            _validate_avro(event_type, validator, schema.schema, payload, envelope or {})
        else:
            _validate_jsonschema(event_type, validator, payload)


def _build_validator(kind: SchemaKind, schema: dict[str, Any]) -> Any:
    if kind == "avro":
        try:
            import fastavro
        except ImportError as exc:  # pragma: no cover - the avro extra is missing
            raise RuntimeError(
                "Avro schemas need fastavro: pip install 'django-pattern-toolkit[avro]'"
            ) from exc
        return fastavro.parse_schema(schema)
    validator = optional_import("jsonschema", extra="jsonschema").Draft202012Validator
    validator.check_schema(schema)
    return validator(schema)


def _validate_jsonschema(event_type: str, validator: Any, payload: Mapping[str, Any]) -> None:
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(payload))
    if error is None:
        return
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [n for n in error.validator_value if n not in error.instance]
        if missing:
            path.append(str(missing[0]))
    raise SchemaValidationError(event_type, error.message, field=".".join(path) or None)


def _validate_avro(
    event_type: str,
    parsed: Any,
    raw: dict[str, Any],
    payload: Mapping[str, Any],
    envelope: Mapping[str, Any],
) -> None:
    from fastavro.validation import ValidationError as AvroError
    from fastavro.validation import validate

    declared = {f.get("name") for f in raw.get("fields", [])}
    record = dict(payload)
    for name in ENVELOPE_FIELDS:
        if name in declared and name not in record and name in envelope:
            record[name] = envelope[name]
    try:
        validate(record, parsed, raise_errors=True)
    except AvroError as exc:
        first = exc.errors[0] if exc.errors else None
        field_name = str(getattr(first, "field", "") or "")
        prefix = str(raw.get("name", "")) + "."
        if field_name.startswith(prefix):
            field_name = field_name[len(prefix) :]
        datum = getattr(first, "datum", None)
        expected = getattr(first, "schema", None)
        raise SchemaValidationError(
            event_type,
            f"{datum!r} is not a valid {expected!r}" if first else str(exc),
            field=field_name or None,
        ) from exc
