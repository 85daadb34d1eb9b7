"""JSON encoding of command params, results and undo state (model instances as references).

A model instance is stored as ``{"__model__": "shop.order", "pk": "42"}`` and decoded by
fetching the row again (``None`` when it no longer exists).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["decode_state", "decode_value", "encode_value", "to_json"]

MODEL_KEY = "__model__"


def to_json(value: Any) -> Any:
    """``value`` as plain JSON data (Django's encoder: dates, UUIDs, decimals as text).

    Raises ``TypeError`` or ``ValueError`` when it is not JSON-serialisable.
    """
    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, allow_nan=False))


def _is_model(value: Any) -> bool:
    from django.db.models import Model

    return isinstance(value, Model)


def encode_value(value: Any, *, fallback: bool) -> Any:
    """Encode ``value`` for an audit row; ``None`` when it cannot be (``fallback`` False)
    or ``{"repr": ...}`` (``fallback`` True)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if _is_model(value):
        if value.pk is None:
            return {"repr": repr(value)} if fallback else None
        return {MODEL_KEY: value._meta.label_lower, "pk": str(value.pk)}
    if isinstance(value, list | tuple):
        items = [encode_value(item, fallback=fallback) for item in value]
        if not fallback and any(
            e is None and v is not None for e, v in zip(items, value, strict=True)
        ):
            return None
        return items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        encoded = {k: encode_value(v, fallback=fallback) for k, v in value.items()}
        if not fallback and any(encoded[k] is None and value[k] is not None for k in value):
            return None
        return encoded
    try:
        return to_json(value)
    except (TypeError, ValueError):
        return {"repr": repr(value)} if fallback else None


def decode_value(value: Any) -> Any:
    """Inverse of :func:`encode_value`: model references are fetched again."""
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {MODEL_KEY, "pk"}:
            from django.apps import apps

            model = apps.get_model(value[MODEL_KEY])
            return model._default_manager.filter(pk=value["pk"]).first()
        return {k: decode_value(v) for k, v in value.items()}
    return value


def decode_state(state: dict[str, Any]) -> dict[str, Any]:
    """Decode every value of an undo-state dict."""
    return {key: decode_value(value) for key, value in state.items()}
