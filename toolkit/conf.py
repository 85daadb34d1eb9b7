"""The ``TOOLKIT`` setting, with defaults, validation and reload on ``override_settings``.

Only the Django layer reads settings; the pure core classes take plain arguments.

.. code-block:: python

    TOOLKIT = {
        "patterns": {
            "audit": False,                # StateTransitionAudit / CommandAuditLog rows
            "cache_backend": "default",    # cache alias used by @cached and Component.cache_ttl
            "event_bus": "default",        # "default" (in-process) or "celery"
            "event_store_backend": "django",  # "django", "redis" or "memory"
            "plugin_group": "toolkit.plugins",  # entry-point group for load_entry_points()
        },
        "sqlite": {
            "journal_mode": "WAL",  # set on SQLite connections; None: SQLite's own
            "synchronous": "FULL",  # "NORMAL": faster, last commits lost on power loss
        },
    }
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import PurePath
from typing import Any

#: Every key of ``TOOLKIT["patterns"]`` with its default (the seed's defaults).
PATTERN_DEFAULTS: dict[str, Any] = {
    "audit": False,
    "cache_backend": "default",
    "event_bus": "default",
    "event_store_backend": "django",
    "plugin_group": "toolkit.plugins",
}

#: Every key of ``TOOLKIT["sqlite"]``: the pragmas set on new SQLite connections
#: (toolkit/sqlite.py); ``None`` leaves SQLite's own setting. A section of its own so that
#: ``TOOLKIT["patterns"]`` keeps exactly the seed's keys and defaults.
SQLITE_DEFAULTS: dict[str, Any] = {
    "journal_mode": "WAL",
    "synchronous": "FULL",
}

#: Every key of ``TOOLKIT["outbox"]``: the transactional outbox (docs/outbox.md). ``enabled``
#: makes every append also write Debezium outbox rows; ``relay_outbox`` publishes them to
#: ``broker_url`` (a kombu URL, ``amqp://`` or ``redis://``) on the topic ``exchange``.
OUTBOX_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "broker_url": "",
    "exchange": "toolkit.events",
}

EVENT_BUS_CHOICES = ("celery", "default")
EVENT_STORE_BACKEND_CHOICES = ("django", "memory", "redis")
SQLITE_JOURNAL_MODE_CHOICES = ("DELETE", "MEMORY", "OFF", "PERSIST", "TRUNCATE", "WAL", None)
SQLITE_SYNCHRONOUS_CHOICES = ("EXTRA", "FULL", "NORMAL", "OFF", None)

#: Every key of ``TOOLKIT["eventsourcing"]`` with its default (documented in
#: :mod:`toolkit.eventsourcing.config`, which re-exports it as ``DEFAULTS``).
EVENTSOURCING_DEFAULTS: dict[str, Any] = {
    "add_schema_version": False,
    "database": "default",
    "prepared_statements": True,
    "projection_batch_size": 500,
    "projection_degraded_lag": 100,
    "projection_gap_timeout": 5.0,
    "projection_lease_seconds": 10.0,
    "projection_max_attempts": 5,
    "projection_max_lag": 1000,
    "projection_max_restarts": 3,
    "projection_retry_backoff": 1.0,
    "projection_stalled_after": 60.0,
    "redis_prefix": "toolkit:es",
    "redis_url": "redis://127.0.0.1:6379/0",
    "require_schemas": False,
    "schema_dirs": [],
    "validate_on_append": False,
}

#: Every key of ``TOOLKIT["cqrs"]`` with its default (documented in :mod:`toolkit.cqrs.conf`,
#: which reads django-cqrs' ``CQRS`` setting as an alias of this section).
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
    "query_timeout": 0,
    "visibility_timeout": None,
    "gap_grace_period": 60.0,
}

#: Every top-level section of ``TOOLKIT`` with its defaults (``admin`` is declared and
#: validated by the panel).
SECTION_DEFAULTS: dict[str, dict[str, Any]] = {
    "patterns": PATTERN_DEFAULTS,
    "sqlite": SQLITE_DEFAULTS,
    "eventsourcing": EVENTSOURCING_DEFAULTS,
    "cqrs": CQRS_DEFAULTS,
    "admin": {},
    "outbox": OUTBOX_DEFAULTS,
}


@dataclass(frozen=True)
class SettingProblem:
    """One thing wrong with the ``TOOLKIT`` setting, as reported by the system check."""

    id: str
    msg: str
    hint: str | None = None


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _check_choice(
    key: str,
    choices: tuple[str | None, ...],
    *,
    case_insensitive: bool = False,
    section: str = "patterns",
) -> Callable[[Any], SettingProblem | None]:
    def check(value: Any) -> SettingProblem | None:
        if value in choices:
            return None
        if case_insensitive and isinstance(value, str) and value.upper() in choices:
            return None
        valid = ", ".join(repr(c) for c in choices)
        return SettingProblem(
            "toolkit.E002",
            f"TOOLKIT[{section!r}][{key!r}] is {value!r}; valid choices are: {valid}.",
        )

    return check


def _check_bool(key: str, *, section: str = "patterns") -> Callable[[Any], SettingProblem | None]:
    def check(value: Any) -> SettingProblem | None:
        if isinstance(value, bool):
            return None
        return SettingProblem(
            "toolkit.E002",
            f"TOOLKIT[{section!r}][{key!r}] is {value!r}; valid choices are: False, True.",
        )

    return check


def _check_name(key: str, *, section: str = "patterns") -> Callable[[Any], SettingProblem | None]:
    def check(value: Any) -> SettingProblem | None:
        if _is_str(value):
            return None
        return SettingProblem(
            "toolkit.E002",
            f"TOOLKIT[{section!r}][{key!r}] is {value!r}; it must be a non-empty string.",
        )

    return check


_PATTERN_VALIDATORS: dict[str, Callable[[Any], SettingProblem | None]] = {
    "audit": _check_bool("audit"),
    "cache_backend": _check_name("cache_backend"),
    "event_bus": _check_choice("event_bus", EVENT_BUS_CHOICES),
    "event_store_backend": _check_choice("event_store_backend", EVENT_STORE_BACKEND_CHOICES),
    "plugin_group": _check_name("plugin_group"),
}

_SQLITE_VALIDATORS: dict[str, Callable[[Any], SettingProblem | None]] = {
    "journal_mode": _check_choice(
        "journal_mode", SQLITE_JOURNAL_MODE_CHOICES, case_insensitive=True, section="sqlite"
    ),
    "synchronous": _check_choice(
        "synchronous", SQLITE_SYNCHRONOUS_CHOICES, case_insensitive=True, section="sqlite"
    ),
}


def _check_broker_url(value: Any) -> SettingProblem | None:
    if isinstance(value, str):
        return None
    return SettingProblem(
        "toolkit.E002",
        f"TOOLKIT['outbox']['broker_url'] is {value!r}; it must be a kombu URL string such as "
        "'amqp://guest:guest@localhost:5672//' (empty: no relay).",
    )


_OUTBOX_VALIDATORS: dict[str, Callable[[Any], SettingProblem | None]] = {
    "enabled": _check_bool("enabled", section="outbox"),
    "broker_url": _check_broker_url,
    "exchange": _check_name("exchange", section="outbox"),
}


def _rule(
    section: str, key: str, ok: Callable[[Any], bool], rule: str, *, check_id: str
) -> Callable[[Any], SettingProblem | None]:
    """A validator: ``ok(value)``, else ``TOOLKIT[section][key] is <value>; <rule>.``"""

    def check(value: Any) -> SettingProblem | None:
        if ok(value):
            return None
        return SettingProblem(check_id, f"TOOLKIT[{section!r}][{key!r}] is {value!r}; {rule}.")

    return check


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_dirs(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str | PurePath) for v in value)


_BOOL = (_is_bool, "valid choices are: False, True")
_POSITIVE_INT = (_is_positive_int, "it must be a positive integer")
_SECONDS = (_is_positive_number, "it must be a positive number of seconds")
_EVENTSOURCING_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "add_schema_version": _BOOL,
    "database": (_is_str, "it must be a database alias"),
    "prepared_statements": _BOOL,
    "projection_batch_size": _POSITIVE_INT,
    "projection_degraded_lag": _POSITIVE_INT,
    "projection_gap_timeout": _SECONDS,
    "projection_lease_seconds": _SECONDS,
    "projection_max_attempts": _POSITIVE_INT,
    "projection_max_lag": _POSITIVE_INT,
    "projection_max_restarts": (_is_count, "it must be an integer >= 0"),
    "projection_retry_backoff": _SECONDS,
    "projection_stalled_after": _SECONDS,
    "redis_prefix": (_is_str, "it must be a non-empty string"),
    "redis_url": (_is_str, "it must be a redis:// URL"),
    "require_schemas": _BOOL,
    "schema_dirs": (_is_dirs, "it must be a list of directory paths"),
    "validate_on_append": _BOOL,
}
_EVENTSOURCING_VALIDATORS: dict[str, Callable[[Any], SettingProblem | None]] = {
    key: _rule("eventsourcing", key, ok, rule, check_id="toolkit.E102")
    for key, (ok, rule) in _EVENTSOURCING_RULES.items()
}


def _is_seconds_or_zero(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _is_seconds_or_none(value: Any) -> bool:
    return value is None or _is_positive_number(value)


_CQRS_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "transport": (_is_str, "it must be a non-empty string"),
    "exchange": (_is_str, "it must be a non-empty string"),
    "queue": (_is_str, "it must be a non-empty string"),
    "broker_url": (lambda value: isinstance(value, str), "it must be a string"),
    "max_retries": (_is_count, "it must be an integer >= 0"),
    "retry_delay": (_is_seconds_or_zero, "it must be a number of seconds >= 0"),
    "message_ttl": (_is_seconds_or_none, "it must be a number of seconds > 0 or None"),
    "gap_grace_period": (_is_seconds_or_zero, "it must be a number of seconds >= 0"),
    "visibility_timeout": (_is_seconds_or_none, "it must be a number of seconds > 0 or None"),
    "auto_update_fields": (_is_bool, "it must be a bool"),
    "query_timeout": (_is_count, "it must be a number of milliseconds >= 0 (0: none)"),
}
_CQRS_VALIDATORS: dict[str, Callable[[Any], SettingProblem | None]] = {
    key: _rule("cqrs", key, ok, rule, check_id="toolkit.E060")
    for key, (ok, rule) in _CQRS_RULES.items()
}


def import_dotted(path: str) -> Any:
    """The object a dotted path names (``"package.module.name"``), as Django's ``import_string``
    finds it, without Django. Raises ``ImportError`` saying what is missing."""
    module_path, _, name = path.rpartition(".")
    if not module_path:
        raise ImportError(f"{path} doesn't look like a module path")
    module = import_module(module_path)
    try:
        return getattr(module, name)
    except AttributeError as exc:
        raise ImportError(
            f'Module "{module_path}" does not define a "{name}" attribute/class'
        ) from exc


def _cqrs_imports(section: Mapping[str, Any]) -> list[SettingProblem]:
    """The callables and dotted paths of ``TOOLKIT["cqrs"]``: each must be a callable, a path
    that imports, or ``None`` (checked after the other values)."""
    problems: list[SettingProblem] = []
    for key in ("transport", "correlation_function", "meta_function"):
        path = section.get(key)
        if key != "transport" and not (path is None or isinstance(path, str) or callable(path)):
            problems.append(
                SettingProblem(
                    "toolkit.E060",
                    f"TOOLKIT['cqrs'][{key!r}] is {path!r}; "
                    "it must be a callable, a dotted path or None.",
                )
            )
        elif isinstance(path, str) and path:
            try:
                import_dotted(path)
            except ImportError as exc:
                problems.append(
                    SettingProblem(
                        "toolkit.E060",
                        f"TOOLKIT['cqrs'][{key!r}] is {path!r}; it cannot be imported ({exc}).",
                    )
                )
    return problems


@dataclass(frozen=True)
class _Section:
    """How one section is validated: its keys, a validator per key, and the check id of a
    section that is not a dict or has an unknown key (each package kept its own id)."""

    defaults: Mapping[str, Any]
    validators: Mapping[str, Callable[[Any], SettingProblem | None]]
    unknown_id: str = "toolkit.E001"
    #: Checks over the whole section, run after the per-key validators (imports, ...).
    after: Callable[[Mapping[str, Any]], list[SettingProblem]] | None = None


#: The sections whose keys are validated here.
_VALIDATED_SECTIONS: dict[str, _Section] = {
    "patterns": _Section(PATTERN_DEFAULTS, _PATTERN_VALIDATORS),
    "sqlite": _Section(SQLITE_DEFAULTS, _SQLITE_VALIDATORS),
    "eventsourcing": _Section(
        EVENTSOURCING_DEFAULTS, _EVENTSOURCING_VALIDATORS, unknown_id="toolkit.E101"
    ),
    "outbox": _Section(OUTBOX_DEFAULTS, _OUTBOX_VALIDATORS),
    "cqrs": _Section(
        CQRS_DEFAULTS, _CQRS_VALIDATORS, unknown_id="toolkit.E060", after=_cqrs_imports
    ),
}


def validate(raw: Any) -> list[SettingProblem]:
    """Return every problem with a raw ``TOOLKIT`` value (empty when it is valid)."""
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        return [SettingProblem("toolkit.E001", f"TOOLKIT must be a dict, not {raw!r}.")]
    problems: list[SettingProblem] = []
    for section in sorted(set(raw) - set(SECTION_DEFAULTS)):
        valid = ", ".join(repr(k) for k in sorted(SECTION_DEFAULTS))
        problems.append(
            SettingProblem(
                "toolkit.E001",
                f"Unknown TOOLKIT section {section!r}; valid sections are: {valid}.",
            )
        )
    for name in _VALIDATED_SECTIONS:
        problems.extend(section_problems(name, raw.get(name, {})))
    return problems


def section_problems(name: str, section: Any) -> list[SettingProblem]:
    """The problems of one validated section's raw value (``None`` counts as not set)."""
    if section is None:
        return []
    spec = _VALIDATED_SECTIONS[name]
    problems = _validate_section(name, section, spec.defaults, spec.validators, spec.unknown_id)
    if spec.after is not None and isinstance(section, Mapping):
        problems.extend(spec.after(section))
    return problems


def _validate_section(
    name: str,
    section: Any,
    defaults: Mapping[str, Any],
    validators: Mapping[str, Callable[[Any], SettingProblem | None]],
    unknown_id: str = "toolkit.E001",
) -> list[SettingProblem]:
    """The problems of one ``TOOLKIT[name]`` section: not a dict, unknown keys, bad values."""
    if not isinstance(section, Mapping):
        return [SettingProblem(unknown_id, f"TOOLKIT[{name!r}] must be a dict, not {section!r}.")]
    problems: list[SettingProblem] = []
    for key in sorted(set(section) - set(defaults)):
        valid = ", ".join(repr(k) for k in sorted(defaults))
        problems.append(
            SettingProblem(
                unknown_id,
                f"Unknown key {key!r} in TOOLKIT[{name!r}]; valid keys are: {valid}.",
            )
        )
    for key, check in validators.items():
        if key in section and (problem := check(section[key])) is not None:
            problems.append(problem)
    return problems


#: Settings of seed libraries read as aliases of a ``TOOLKIT`` section: the setting's name ->
#: (the section, a function turning the setting's value into keys of that section). Keys set
#: in ``TOOLKIT`` itself win over the alias. Registered by the module that owns the section
#: (``DJANGOEVENTS_CONFIG`` by :mod:`toolkit.eventsourcing.config`).
SETTING_ALIASES: dict[str, tuple[str, Callable[[Any], Mapping[str, Any]]]] = {}


def register_alias(
    setting: str, section: str, translate: Callable[[Any], Mapping[str, Any]]
) -> None:
    """Read ``settings.<setting>`` as an alias of ``TOOLKIT[section]`` (through ``translate``)."""
    if section not in SECTION_DEFAULTS:
        valid = ", ".join(repr(k) for k in sorted(SECTION_DEFAULTS))
        raise ValueError(f"Unknown TOOLKIT section {section!r}; valid sections are: {valid}.")
    SETTING_ALIASES[setting] = (section, translate)
    toolkit_settings.reload()


class ToolkitSettings:
    """Lazy view of ``settings.TOOLKIT`` merged over the defaults.

    ``toolkit_settings.patterns["audit"]`` reads one value; the merged dicts are cached
    until Django sends ``setting_changed`` for ``TOOLKIT``.
    """

    def __init__(self) -> None:
        self._cache: dict[str, dict[str, Any]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        raw = _django_setting()
        aliased: dict[str, dict[str, Any]] = {section: {} for section in SECTION_DEFAULTS}
        if settings_ready():
            from django.conf import settings

            for setting, (section, translate) in SETTING_ALIASES.items():
                alias_value = getattr(settings, setting, None)
                if alias_value is not None:
                    aliased[section].update(translate(alias_value))
        merged: dict[str, dict[str, Any]] = {}
        for section, defaults in SECTION_DEFAULTS.items():
            value = raw.get(section) if isinstance(raw, Mapping) else None
            merged[section] = {
                **defaults,
                **aliased[section],
                **(value if isinstance(value, Mapping) else {}),
            }
        return merged

    def section(self, name: str) -> dict[str, Any]:
        """Return one merged section (``"patterns"``, ``"eventsourcing"``, ...)."""
        if self._cache is None:
            if not settings_ready():
                return self._load()[name]  # defaults only: not cached, settings may come later
            self._cache = self._load()
        return self._cache[name]

    @property
    def patterns(self) -> dict[str, Any]:
        return self.section("patterns")

    @property
    def eventsourcing(self) -> dict[str, Any]:
        return self.section("eventsourcing")

    @property
    def cqrs(self) -> dict[str, Any]:
        return self.section("cqrs")

    @property
    def admin(self) -> dict[str, Any]:
        return self.section("admin")

    @property
    def outbox(self) -> dict[str, Any]:
        return self.section("outbox")

    def reload(self) -> None:
        """Forget the cached values; the next read sees the current settings."""
        self._cache = None


toolkit_settings = ToolkitSettings()


def from_dmr_toolkit(value: Any) -> Mapping[str, Any]:
    """``TOOLKIT["patterns"]`` keys from dmr-toolkit's ``DMR_TOOLKIT = {"patterns": {...}}``."""
    patterns = value.get("patterns") if isinstance(value, Mapping) else None
    return patterns if isinstance(patterns, Mapping) else {}


register_alias("DMR_TOOLKIT", "patterns", from_dmr_toolkit)


def alias_problems(setting: str, value: Any) -> list[SettingProblem]:
    """The problems of an alias setting's value (``CQRS``, ``DMR_TOOLKIT``, ...): its keys read
    into their ``TOOLKIT`` section, validated as that section, each message naming the alias
    (``CQRS (read as TOOLKIT['cqrs'])['max_retries'] is ...``)."""
    if value is None:
        return []
    section, translate = SETTING_ALIASES[setting]
    if setting == "DMR_TOOLKIT" and not (isinstance(value, Mapping) and set(value) <= {"patterns"}):
        return [
            SettingProblem(
                "toolkit.E001",
                f"DMR_TOOLKIT is {value!r}; dmr-toolkit's setting holds one section, "
                "{'patterns': {...}}, read as TOOLKIT['patterns'].",
            )
        ]
    name = f"TOOLKIT[{section!r}]"
    return [
        SettingProblem(p.id, p.msg.replace(name, f"{setting} (read as {name})"), p.hint)
        for p in section_problems(section, translate(value))
    ]


_reload_callbacks: list[Callable[[], None]] = []


def on_reload(func: Callable[[], None]) -> Callable[[], None]:
    """Call ``func`` whenever the ``TOOLKIT`` setting changes (e.g. ``override_settings``)."""
    _reload_callbacks.append(func)
    return func


def settings_ready() -> bool:
    """Whether Django is installed and its settings are configured."""
    try:
        from django.conf import settings
    except ImportError:
        return False
    return bool(settings.configured)


def _django_setting() -> Any:
    """``settings.TOOLKIT``; empty (so every default applies) without Django or without
    configured settings, which lets the pure core run its defaults outside a Django project."""
    if not settings_ready():
        return {}
    from django.conf import settings

    return getattr(settings, "TOOLKIT", None) or {}


def _reload_toolkit_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == "TOOLKIT" or setting in SETTING_ALIASES:
        toolkit_settings.reload()
        for callback in list(_reload_callbacks):
            callback()


try:
    from django.core.signals import setting_changed
except ImportError:  # no Django: nothing can change the settings, there is nothing to reload
    pass
else:
    setting_changed.connect(_reload_toolkit_settings, dispatch_uid="toolkit.conf")
