"""The Django layer of event sourcing: settings, the default backend, schema discovery.

``TOOLKIT["eventsourcing"]`` keys (all optional):

==========================  ============================  =====================================
key                         default                       meaning
==========================  ============================  =====================================
``schema_dirs``             ``[]``                        extra schema directories (besides
                                                          every app's ``event_schemas/``)
``validate_on_append``      ``False``                     validate payloads against schemas
``require_schemas``         ``False``                     with validation: reject event types
                                                          that have no schema file
``add_schema_version``      ``False``                     also write ``schema_version`` into
                                                          the payload (djangoevents option)
``redis_url``               ``"redis://127.0.0.1:6379/0"`` Redis backend server
``redis_prefix``            ``"toolkit:es"``              Redis backend key prefix
``database``                ``"default"``                 Django backend database alias
``projection_batch_size``   ``500``                       events per projection transaction
``projection_max_lag``      ``1000``                      lag above which a projection is
                                                          unhealthy
``projection_degraded_lag`` ``100``                       lag above which it is degraded
``projection_stalled_after`` ``60``                       seconds without progress while
                                                          events wait: stalled
``projection_max_restarts`` ``3``                         restarts of a stalled worker by
                                                          ``run_projections --supervise``
``projection_lease_seconds`` ``10``                       segment lease; a dead worker's
                                                          segments move after it expires
``projection_gap_timeout``  ``5``                         seconds a hole in the positions is
                                                          waited for before it is skipped
``projection_max_attempts`` ``5``                         tries of a failing event before it
                                                          is dead-lettered
``projection_retry_backoff`` ``1``                        seconds before the first retry,
                                                          doubled each time
==========================  ============================  =====================================

The backend itself is chosen by ``TOOLKIT["patterns"]["event_store_backend"]``.

djangoevents' ``DJANGOEVENTS_CONFIG`` is read as an alias of this section (keys set in
``TOOLKIT["eventsourcing"]`` win), see :func:`djangoevents_settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.conf import EVENTSOURCING_DEFAULTS, section_problems
from toolkit.eventsourcing.schemas import SchemaRegistry
from toolkit.eventsourcing.store import EventStoreBackend

if TYPE_CHECKING:
    from toolkit.eventsourcing.event_store import EventStore

#: ``TOOLKIT["eventsourcing"]`` keys and defaults, declared and validated with every other
#: section in :mod:`toolkit.conf` (the one settings module); re-exported here.
DEFAULTS = EVENTSOURCING_DEFAULTS


def settings_problems(raw: Any) -> list[tuple[str, str]]:
    """``(check id, message)`` for every bad key or value of ``TOOLKIT["eventsourcing"]``
    (``toolkit.E101`` unknown key or not a dict, ``toolkit.E102`` bad value), from
    :func:`toolkit.conf.section_problems`."""
    return [(p.id, p.msg) for p in section_problems("eventsourcing", raw)]


def djangoevents_settings(config: Any) -> dict[str, Any]:
    """``TOOLKIT["eventsourcing"]`` keys for djangoevents' ``DJANGOEVENTS_CONFIG``.

    ``EVENT_SCHEMA_VALIDATION["ENABLED"]`` turns on ``validate_on_append`` and
    ``require_schemas`` (djangoevents requires a schema for every event once it is enabled);
    ``SCHEMA_DIR`` (default ``"avro"``) is, as in djangoevents, relative to
    ``settings.BASE_DIR / ".."`` and joins ``schema_dirs`` when validation is enabled or the
    directory exists (djangoevents reads it at start-up to find each event's ``version``);
    ``ADDS_SCHEMA_VERSION_TO_EVENT_DATA`` is ``add_schema_version``.
    """
    import os

    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if not isinstance(config, dict):
        raise ImproperlyConfigured(f"DJANGOEVENTS_CONFIG must be a dict, not {config!r}.")
    known = {"EVENT_SCHEMA_VALIDATION", "ADDS_SCHEMA_VERSION_TO_EVENT_DATA"}
    for key in sorted(set(config) - known):
        valid = ", ".join(repr(k) for k in sorted(known))
        raise ImproperlyConfigured(
            f"Unknown key {key!r} in DJANGOEVENTS_CONFIG; valid keys are: {valid}."
        )
    validation = config.get("EVENT_SCHEMA_VALIDATION") or {}
    enabled = bool(validation.get("ENABLED", False))
    translated: dict[str, Any] = {
        "add_schema_version": bool(config.get("ADDS_SCHEMA_VERSION_TO_EVENT_DATA", False)),
    }
    if enabled:
        translated["validate_on_append"] = True
        translated["require_schemas"] = True
    base_dir = getattr(settings, "BASE_DIR", None) or os.getcwd()
    schema_dir = Path(
        os.path.abspath(os.path.join(base_dir, "..", validation.get("SCHEMA_DIR", "avro")))
    )
    if enabled or schema_dir.is_dir():
        translated["schema_dirs"] = [schema_dir]
    return translated


def es_settings() -> dict[str, Any]:
    """``TOOLKIT["eventsourcing"]`` merged over :data:`DEFAULTS`."""
    from toolkit.conf import toolkit_settings

    return {**DEFAULTS, **toolkit_settings.eventsourcing}


_cache: dict[str, Any] = {}


def reset() -> None:
    """Forget cached backends and schemas (called when ``TOOLKIT`` changes)."""
    _cache.clear()


def schema_dirs() -> list[Path]:
    """Every app's ``event_schemas/`` directory that exists, then ``schema_dirs``."""
    from django.apps import apps

    found = [
        Path(app.path) / "event_schemas"
        for app in apps.get_app_configs()
        if (Path(app.path) / "event_schemas").is_dir()
    ]
    return found + [Path(d) for d in es_settings()["schema_dirs"]]


def schema_registry() -> SchemaRegistry:
    """The project's schemas (loaded once, reloaded after a ``TOOLKIT`` change)."""
    registry = _cache.get("schemas")
    if registry is None:
        registry = _cache["schemas"] = SchemaRegistry.from_dirs(
            schema_dirs(), require_schemas=es_settings()["require_schemas"]
        )
    return registry


def apply_event_versions() -> None:
    """Set ``version`` on every registered aggregate's event classes from the schema files."""
    from django.conf import settings

    from toolkit.registry import aggregates

    if settings_problems((getattr(settings, "TOOLKIT", None) or {}).get("eventsourcing")):
        return  # the system check reports the bad setting; start-up must not crash on it
    registry = schema_registry()
    for aggregate_type, cls in aggregates.items():
        for event_type, event_cls in cls.event_classes.items():
            event_cls.version = registry.current_version(aggregate_type, event_type)


def default_backend() -> EventStoreBackend:
    """The backend named by ``TOOLKIT["patterns"]["event_store_backend"]`` (shared per
    process, so every ``EventStore()`` of the memory backend sees the same events)."""
    from toolkit.conf import EVENT_STORE_BACKEND_CHOICES, toolkit_settings

    name = toolkit_settings.patterns["event_store_backend"]
    key = f"backend:{name}"
    backend = _cache.get(key)
    if backend is not None:
        return backend  # type: ignore[no-any-return]
    options = es_settings()
    if name == "django":
        from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend

        backend = DjangoEventStoreBackend(
            using=options["database"],
            prepared_statements=options["prepared_statements"],
            outbox=bool(toolkit_settings.outbox["enabled"]),
        )
    elif name == "redis":
        from toolkit.eventsourcing.backends.redis import RedisEventStoreBackend

        backend = RedisEventStoreBackend.from_url(
            options["redis_url"], prefix=options["redis_prefix"]
        )
    elif name == "memory":
        from toolkit.eventsourcing.backends.memory import MemoryEventStoreBackend

        backend = MemoryEventStoreBackend()
    else:
        valid = ", ".join(repr(c) for c in EVENT_STORE_BACKEND_CHOICES)
        raise ValueError(
            f"TOOLKIT['patterns']['event_store_backend'] is {name!r}; valid choices are: {valid}."
        )
    _cache[key] = backend
    return backend


def store_or_default(store: EventStore | None) -> EventStore:
    """``store``, or ``EventStore()`` configured from settings when it is None."""
    if store is not None:
        return store
    from toolkit.eventsourcing.event_store import EventStore

    return EventStore()
