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
            "query_timeout": 0,        # replica: ms a statement applying a message may take
            "visibility_timeout": None,  # Redis: seconds; None = max_retries * retry_delay + 30
            "gap_grace_period": 60.0,   # seconds before a revision gap is reported
        }
    }

The keys, their defaults (:data:`toolkit.conf.CQRS_DEFAULTS`, re-exported here) and their
validation live in :mod:`toolkit.conf` with every other section. A project that already has
django-cqrs' ``CQRS = {...}`` keeps it: this module registers it as an alias of
``TOOLKIT["cqrs"]`` (:func:`toolkit.conf.register_alias`), read under the names django-cqrs
documents, and ``TOOLKIT["cqrs"]`` overrides it key by key (see :data:`DJANGO_CQRS_KEYS`).
``correlation_function`` is called as django-cqrs calls it,
``(signal_type, cqrs_id, instance_pk, queue)``.

django-cqrs names the same things ``CQRS["transport"]``, ``CQRS["url"]``, ``CQRS["queue"]``,
``CQRS["replica"]["CQRS_MAX_RETRIES"]``, ``["CQRS_RETRY_DELAY"]`` and
``CQRS["master"]["CQRS_MESSAGE_TTL"]``, ``CQRS["master"]["correlation_function"]`` and
``CQRS["replica"]["CQRS_QUERY_TIMEOUT"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.checks import CheckMessage, Error
from django.utils.module_loading import import_string

from toolkit.conf import CQRS_DEFAULTS, alias_problems, register_alias, section_problems

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
    "query_timeout": ("replica", "CQRS_QUERY_TIMEOUT"),
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
    query_timeout: int
    visibility_timeout: float | None
    gap_grace_period: float

    def visibility_timeout_seconds(self, margin: float) -> float:
        """The Redis visibility timeout: the setting, else the retry window plus ``margin``."""
        if self.visibility_timeout is not None:
            return self.visibility_timeout
        return self.max_retries * self.retry_delay + margin


def cqrs_settings() -> CqrsSettings:
    """Read ``TOOLKIT["cqrs"]`` over django-cqrs' ``CQRS`` over :data:`CQRS_DEFAULTS`.

    The merged section comes from :data:`toolkit.conf.toolkit_settings`, which forgets it
    whenever ``override_settings`` changes ``TOOLKIT`` or ``CQRS``.
    """
    from toolkit.conf import toolkit_settings

    raw = toolkit_settings.cqrs
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
        query_timeout=int(raw["query_timeout"]),
        gap_grace_period=float(raw["gap_grace_period"]),
        visibility_timeout=(
            None if raw["visibility_timeout"] is None else float(raw["visibility_timeout"])
        ),
    )


def _callable(value: Any) -> Any:
    """A callable setting given as the callable itself or as its dotted path."""
    return import_string(value) if isinstance(value, str) and value else value or None


def validate_cqrs(section: Any) -> list[str]:
    """Return every problem with a raw ``TOOLKIT["cqrs"]`` value (empty when valid); the
    rules are :func:`toolkit.conf.section_problems`' for the ``cqrs`` section."""
    return [problem.msg for problem in section_problems("cqrs", section)]


def check_cqrs_settings() -> list[CheckMessage]:
    """System check ``toolkit.E060``: the ``TOOLKIT["cqrs"]`` keys and values, and those of
    django-cqrs' ``CQRS`` read as its alias."""
    from django.conf import settings

    raw = getattr(settings, "TOOLKIT", None)
    section = raw.get("cqrs") if isinstance(raw, Mapping) else None
    errors: list[CheckMessage] = [
        Error(p.msg, id=p.id, obj="settings.TOOLKIT") for p in section_problems("cqrs", section)
    ]
    errors += [
        Error(p.msg, id=p.id, obj="settings.CQRS")
        for p in alias_problems("CQRS", getattr(settings, "CQRS", None))
    ]
    return errors


register_alias("CQRS", "cqrs", from_django_cqrs)

__all__ = [
    "CQRS_DEFAULTS",
    "DJANGO_CQRS_KEYS",
    "DJANGO_CQRS_TRANSPORTS",
    "CqrsSettings",
    "check_cqrs_settings",
    "cqrs_settings",
    "from_django_cqrs",
    "validate_cqrs",
]
