"""``TOOLKIT["cqrs"]``: the CQRS keys, their defaults and their validation.

.. code-block:: python

    TOOLKIT = {
        "cqrs": {
            "transport": "toolkit.cqrs.transport.inprocess.InProcessTransport",
            "broker_url": "",          # kombu URL, e.g. "redis://127.0.0.1:6379/0"
            "exchange": "cqrs",        # topic exchange the masters publish to
            "queue": "cqrs_replica",   # this service's replica queue
            "max_retries": 3,          # attempts after the first failure, then dead letter
            "retry_delay": 1.0,        # seconds between attempts
            "message_ttl": 86400,      # seconds a message stays valid; None = forever
            "correlation_function": None,  # dotted path of a () -> str | None callable
        }
    }

django-cqrs names the same things ``CQRS["transport"]``, ``CQRS["url"]``, ``CQRS["queue"]``,
``CQRS["replica"]["CQRS_MAX_RETRIES"]``, ``["CQRS_RETRY_DELAY"]`` and
``CQRS["master"]["CQRS_MESSAGE_TTL"]`` and ``CQRS["master"]["correlation_function"]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.checks import CheckMessage, Error
from django.utils.module_loading import import_string

#: Every key of ``TOOLKIT["cqrs"]`` with its default.
CQRS_DEFAULTS: dict[str, Any] = {
    "transport": "toolkit.cqrs.transport.inprocess.InProcessTransport",
    "broker_url": "",
    "exchange": "cqrs",
    "queue": "cqrs_replica",
    "max_retries": 3,
    "retry_delay": 1.0,
    "message_ttl": 86400,
    "correlation_function": None,
}


@dataclass(frozen=True)
class CqrsSettings:
    """The merged ``TOOLKIT["cqrs"]`` values, typed."""

    transport: str
    broker_url: str
    exchange: str
    queue: str
    max_retries: int
    retry_delay: float
    message_ttl: float | None
    correlation_function: str | None


def cqrs_settings() -> CqrsSettings:
    """Read ``TOOLKIT["cqrs"]`` merged over :data:`CQRS_DEFAULTS` (follows override_settings)."""
    from toolkit.conf import toolkit_settings

    raw = {**CQRS_DEFAULTS, **toolkit_settings.cqrs}
    return CqrsSettings(
        transport=raw["transport"],
        broker_url=raw["broker_url"],
        exchange=raw["exchange"],
        queue=raw["queue"],
        max_retries=raw["max_retries"],
        retry_delay=float(raw["retry_delay"]),
        message_ttl=None if raw["message_ttl"] is None else float(raw["message_ttl"]),
        correlation_function=raw["correlation_function"],
    )


def _problem(key: str, value: Any, expected: str) -> str:
    return f"TOOLKIT['cqrs'][{key!r}] is {value!r}; {expected}."


def validate_cqrs(section: Any) -> list[str]:
    """Return every problem with a raw ``TOOLKIT["cqrs"]`` value (empty when valid)."""
    if section is None:
        return []
    if not isinstance(section, Mapping):
        return [f"TOOLKIT['cqrs'] must be a dict, not {section!r}."]
    problems: list[str] = []
    for key in sorted(set(section) - set(CQRS_DEFAULTS)):
        valid = ", ".join(repr(k) for k in sorted(CQRS_DEFAULTS))
        problems.append(f"Unknown key {key!r} in TOOLKIT['cqrs']; valid keys are: {valid}.")
    for key in ("transport", "exchange", "queue"):
        if key in section and not (isinstance(section[key], str) and section[key]):
            problems.append(_problem(key, section[key], "it must be a non-empty string"))
    if "broker_url" in section and not isinstance(section["broker_url"], str):
        problems.append(_problem("broker_url", section["broker_url"], "it must be a string"))
    retries = section.get("max_retries", 0)
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        problems.append(_problem("max_retries", retries, "it must be an integer >= 0"))
    delay = section.get("retry_delay", 0.0)
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        problems.append(_problem("retry_delay", delay, "it must be a number of seconds >= 0"))
    ttl = section.get("message_ttl")
    if ttl is not None and (not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl <= 0):
        problems.append(_problem("message_ttl", ttl, "it must be a number of seconds > 0 or None"))
    for key in ("transport", "correlation_function"):
        path = section.get(key)
        if key == "correlation_function" and path is not None and not isinstance(path, str):
            problems.append(_problem(key, path, "it must be a dotted path or None"))
        elif isinstance(path, str) and path:
            try:
                import_string(path)
            except ImportError as exc:
                problems.append(_problem(key, path, f"it cannot be imported ({exc})"))
    return problems


def check_cqrs_models() -> list[CheckMessage]:
    """System check ``toolkit.E061``: master models have the revision fields, replica
    mappings and ``CQRS_FIELDS`` name real fields."""
    from django.core.exceptions import FieldDoesNotExist

    from toolkit.cqrs.constants import ALL_FIELDS, REVISION_FIELD, UPDATED_FIELD
    from toolkit.cqrs.managers import field_names
    from toolkit.cqrs.registries import MasterRegistry, ReplicaRegistry

    errors: list[CheckMessage] = []

    def unknown_fields(model: type[Any], what: str, names: Iterable[str]) -> list[CheckMessage]:
        unknown = sorted(set(names) - field_names(model))
        if not unknown:
            return []
        valid = ", ".join(repr(n) for n in sorted(field_names(model)))
        message = f"{model._meta.label}.{what} unknown field(s) {unknown!r}; fields are: {valid}"
        return [Error(message, id="toolkit.E061", obj=model)]

    for model in MasterRegistry.models.values():
        label = model._meta.label
        for required in (REVISION_FIELD, UPDATED_FIELD):
            try:
                model._meta.get_field(required)
            except FieldDoesNotExist:
                errors.append(
                    Error(
                        f"{label} is a CQRS master without a {required!r} field; use "
                        "MasterMixin, or declare it when using RawMasterMixin.",
                        id="toolkit.E061",
                        obj=model,
                    )
                )
        if model.CQRS_FIELDS != ALL_FIELDS:
            errors += unknown_fields(model, "CQRS_FIELDS names", model.CQRS_FIELDS)
    for model in ReplicaRegistry.models.values():
        if model.CQRS_CUSTOM_SERIALIZATION or not model.CQRS_MAPPING:
            continue
        errors += unknown_fields(model, "CQRS_MAPPING maps to", model.CQRS_MAPPING.values())
    return errors


def check_cqrs_settings() -> list[CheckMessage]:
    """System check ``toolkit.E060``: the ``TOOLKIT["cqrs"]`` keys and values."""
    from django.conf import settings

    raw = getattr(settings, "TOOLKIT", None)
    section = raw.get("cqrs") if isinstance(raw, Mapping) else None
    return [Error(msg, id="toolkit.E060", obj="settings.TOOLKIT") for msg in validate_cqrs(section)]
