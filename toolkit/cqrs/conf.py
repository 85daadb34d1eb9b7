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
            "correlation_function": None,  # callable or dotted path, see below
            "meta_function": None,     # callable or dotted path: (obj=..., **kw) -> dict
            "auto_update_fields": False,  # save(update_fields=...) also bumps the revision
            "visibility_timeout": None,  # Redis: seconds; None = max_retries * retry_delay + 30
            "gap_grace_period": 60.0,   # seconds before a revision gap is reported
        }
    }

A project that already has django-cqrs' ``CQRS = {...}`` keeps it: :func:`cqrs_settings`
reads it under the names django-cqrs documents and ``TOOLKIT["cqrs"]`` overrides it key by
key (see :data:`DJANGO_CQRS_KEYS`). ``correlation_function`` is called as django-cqrs calls
it, ``(signal_type, cqrs_id, instance_pk, queue)``.

django-cqrs names the same things ``CQRS["transport"]``, ``CQRS["url"]``, ``CQRS["queue"]``,
``CQRS["replica"]["CQRS_MAX_RETRIES"]``, ``["CQRS_RETRY_DELAY"]`` and
``CQRS["master"]["CQRS_MESSAGE_TTL"]`` and ``CQRS["master"]["correlation_function"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    "meta_function": None,
    "auto_update_fields": False,
    "visibility_timeout": None,
    "gap_grace_period": 60.0,
}

#: Where each ``TOOLKIT["cqrs"]`` key lives in django-cqrs' ``CQRS`` setting.
DJANGO_CQRS_KEYS: dict[str, tuple[str, ...]] = {
    "transport": ("transport",),
    "broker_url": ("url",),
    "exchange": ("exchange",),
    "queue": ("queue",),
    "max_retries": ("replica", "CQRS_MAX_RETRIES"),
    "retry_delay": ("replica", "CQRS_RETRY_DELAY"),
    "message_ttl": ("master", "CQRS_MESSAGE_TTL"),
    "correlation_function": ("master", "correlation_function"),
    "meta_function": ("master", "meta_function"),
    "auto_update_fields": ("master", "CQRS_AUTO_UPDATE_FIELDS"),
}

#: django-cqrs transport paths and the toolkit class that speaks the same wire format.
DJANGO_CQRS_TRANSPORTS: dict[str, str] = {
    "dj_cqrs.transport.RabbitMQTransport": "toolkit.cqrs.transport.rabbit_mq.RabbitMQTransport",
    "dj_cqrs.transport.rabbit_mq.RabbitMQTransport": (
        "toolkit.cqrs.transport.rabbit_mq.RabbitMQTransport"
    ),
    "dj_cqrs.transport.KombuTransport": "toolkit.cqrs.transport.kombu.KombuTransport",
    "dj_cqrs.transport.kombu.KombuTransport": "toolkit.cqrs.transport.kombu.KombuTransport",
}


def from_django_cqrs(cqrs: Any) -> dict[str, Any]:
    """Translate django-cqrs' ``CQRS`` dict into ``TOOLKIT["cqrs"]`` keys (absent ones left out).

    >>> from_django_cqrs({"url": "amqp://x", "replica": {"CQRS_MAX_RETRIES": 5}})
    {'broker_url': 'amqp://x', 'max_retries': 5}
    """
    if not isinstance(cqrs, Mapping):
        return {}
    result: dict[str, Any] = {}
    for key, path in DJANGO_CQRS_KEYS.items():
        node: Any = cqrs
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                break
            node = node[part]
        else:
            result[key] = node
    if "transport" in result:
        result["transport"] = DJANGO_CQRS_TRANSPORTS.get(result["transport"], result["transport"])
    return result


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
    correlation_function: Any
    meta_function: Any
    auto_update_fields: bool
    visibility_timeout: float | None
    gap_grace_period: float

    def visibility_timeout_seconds(self, margin: float) -> float:
        """The Redis visibility timeout: the setting, else the retry window plus ``margin``."""
        if self.visibility_timeout is not None:
            return self.visibility_timeout
        return self.max_retries * self.retry_delay + margin


def cqrs_settings() -> CqrsSettings:
    """Read ``TOOLKIT["cqrs"]`` over django-cqrs' ``CQRS`` over :data:`CQRS_DEFAULTS`.

    Follows ``override_settings`` (nothing is cached).
    """
    from django.conf import settings as django_settings

    from toolkit.conf import toolkit_settings

    raw = {
        **CQRS_DEFAULTS,
        **from_django_cqrs(getattr(django_settings, "CQRS", None)),
        **toolkit_settings.cqrs,
    }
    return CqrsSettings(
        transport=raw["transport"],
        broker_url=raw["broker_url"],
        exchange=raw["exchange"],
        queue=raw["queue"],
        max_retries=raw["max_retries"],
        retry_delay=float(raw["retry_delay"]),
        message_ttl=None if raw["message_ttl"] is None else float(raw["message_ttl"]),
        correlation_function=_callable(raw["correlation_function"]),
        meta_function=_callable(raw["meta_function"]),
        auto_update_fields=bool(raw["auto_update_fields"]),
        gap_grace_period=float(raw["gap_grace_period"]),
        visibility_timeout=(
            None if raw["visibility_timeout"] is None else float(raw["visibility_timeout"])
        ),
    )


def _callable(value: Any) -> Any:
    """A callable setting given as the callable itself or as its dotted path."""
    return import_string(value) if isinstance(value, str) and value else value or None


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
    grace = section.get("gap_grace_period", 0.0)
    if not isinstance(grace, int | float) or isinstance(grace, bool) or grace < 0:
        problems.append(_problem("gap_grace_period", grace, "it must be a number of seconds >= 0"))
    visibility = section.get("visibility_timeout")
    if visibility is not None and (
        not isinstance(visibility, int | float) or isinstance(visibility, bool) or visibility <= 0
    ):
        problems.append(
            _problem("visibility_timeout", visibility, "it must be a number of seconds > 0 or None")
        )
    if not isinstance(section.get("auto_update_fields", False), bool):
        problems.append(
            _problem("auto_update_fields", section["auto_update_fields"], "it must be a bool")
        )
    for key in ("transport", "correlation_function", "meta_function"):
        path = section.get(key)
        if (
            key != "transport"
            and path is not None
            and not (isinstance(path, str) or callable(path))
        ):
            problems.append(_problem(key, path, "it must be a callable, a dotted path or None"))
        elif isinstance(path, str) and path:
            try:
                import_string(path)
            except ImportError as exc:
                problems.append(_problem(key, path, f"it cannot be imported ({exc})"))
    return problems


def check_cqrs_settings() -> list[CheckMessage]:
    """System check ``toolkit.E060``: the ``TOOLKIT["cqrs"]`` keys and values."""
    from django.conf import settings

    raw = getattr(settings, "TOOLKIT", None)
    section = raw.get("cqrs") if isinstance(raw, Mapping) else None
    errors: list[CheckMessage] = [
        Error(msg, id="toolkit.E060", obj="settings.TOOLKIT") for msg in validate_cqrs(section)
    ]
    legacy = getattr(settings, "CQRS", None)
    if legacy is not None:
        errors += [
            Error(
                msg.replace("TOOLKIT['cqrs']", "CQRS (read as TOOLKIT['cqrs'])"),
                id="toolkit.E060",
                obj="settings.CQRS",
            )
            for msg in validate_cqrs(from_django_cqrs(legacy))
        ]
    return errors
