"""Which field identifies an entity (shared by the dataclasses and pydantic flavours)."""

from __future__ import annotations

import dataclasses
from typing import Any

from toolkit.core.exceptions import ValidationError


def field_names(cls: type[Any]) -> list[str]:
    """Declared field names of a dataclass or pydantic model, in declaration order."""
    model_fields = getattr(cls, "model_fields", None)
    if isinstance(model_fields, dict):
        return [name for name in model_fields if not name.startswith("_")]
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
    return []


def identity_field_of(cls: type[Any]) -> str:
    """The identity field: ``cls.identity`` if set, else ``id``, else the first ``*_id`` field.

    Raises :class:`ValidationError` naming the class and its fields when there is none.
    """
    chosen = getattr(cls, "identity", None)
    names = field_names(cls)
    if chosen:
        if chosen not in names:
            raise ValidationError(
                f"{cls.__name__}.identity is {chosen!r}, which is not a field; "
                f"fields: {', '.join(repr(n) for n in names) or 'none'}",
                field="identity",
                value=chosen,
            )
        return str(chosen)
    if "id" in names:
        return "id"
    for name in names:
        if name.endswith("_id"):
            return name
    raise ValidationError(
        f"{cls.__name__} has no identity field: add an 'id' or '<name>_id' field or set "
        f"identity = '<field>'; fields: {', '.join(repr(n) for n in names) or 'none'}",
        field="identity",
    )
