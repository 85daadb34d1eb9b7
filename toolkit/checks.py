"""System checks for the ``TOOLKIT`` setting (ids ``toolkit.E001`` and up) and the SQLite
connection defaults (``toolkit.W004`` to ``toolkit.W006``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from toolkit.conf import alias_problems, toolkit_settings, validate
from toolkit.sqlite import plan

#: Extra checks contributed by sub-packages (event schemas, CQRS registries, ...).
_extra_checks: list[Callable[[], list[CheckMessage]]] = []


def add_check(func: Callable[[], list[CheckMessage]]) -> Callable[[], list[CheckMessage]]:
    """Add ``func`` to the checks run by ``manage.py check`` under the ``toolkit`` tag."""
    _extra_checks.append(func)
    return func


@register(Tags.compatibility, "toolkit")
def check_toolkit_setting(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Reject unknown keys and bad values in ``settings.TOOLKIT``."""
    from django.conf import settings

    raw = getattr(settings, "TOOLKIT", None)
    messages: list[CheckMessage] = [
        Error(p.msg, hint=p.hint, id=p.id, obj="settings.TOOLKIT") for p in validate(raw)
    ]
    messages += [
        Error(p.msg, hint=p.hint, id=p.id, obj="settings.DMR_TOOLKIT")
        for p in alias_problems("DMR_TOOLKIT", getattr(settings, "DMR_TOOLKIT", None))
    ]
    for check in list(_extra_checks):
        messages.extend(check())
    # validate() covers every section, and a sub-package's own check (event sourcing's, which
    # callers use on its own) may report its section again: show each problem once.
    seen: set[tuple[str | None, str]] = set()
    unique: list[CheckMessage] = []
    for message in messages:
        if (message.id, message.msg) not in seen:
            seen.add((message.id, message.msg))
            unique.append(message)
    return unique


@register(Tags.caches, "toolkit")
def check_cache_backend(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``TOOLKIT['patterns']['cache_backend']`` must name an alias of ``settings.CACHES``."""
    from django.conf import settings

    from toolkit.conf import toolkit_settings

    alias = toolkit_settings.patterns["cache_backend"]
    aliases = sorted(getattr(settings, "CACHES", {}) or {"default": {}})
    if not isinstance(alias, str) or alias in aliases:
        return []  # a non-string is reported by check_toolkit_setting (toolkit.E002)
    valid = ", ".join(repr(a) for a in aliases)
    return [
        Error(
            f"TOOLKIT['patterns']['cache_backend'] is {alias!r}, which is not a cache alias; "
            f"valid choices are: {valid}.",
            hint="Add it to settings.CACHES or name one of the aliases above.",
            id="toolkit.E003",
            obj="settings.TOOLKIT",
        )
    ]


@register(Tags.database, "toolkit")
def check_sqlite_durability(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Explain a SQLite database that runs below the toolkit's defaults (toolkit/sqlite.py):
    ``toolkit.W004`` synchronous weaker than FULL, ``toolkit.W005`` a journal mode other than
    WAL, ``toolkit.W006`` deferred transactions. Reads settings only; opens no connection."""
    from django.conf import settings

    return sqlite_messages(
        getattr(settings, "DATABASES", None) or {}, toolkit_settings.section("sqlite")
    )


def sqlite_messages(
    databases: Mapping[str, Mapping[str, Any]], sqlite: Mapping[str, Any]
) -> list[CheckMessage]:
    """The warnings of :func:`check_sqlite_durability` for ``DATABASES`` and the
    ``TOOLKIT["sqlite"]`` section (pure, so tests need not override ``DATABASES``)."""
    messages: list[CheckMessage] = []
    for alias, settings_dict in sorted(databases.items()):
        if not str(settings_dict.get("ENGINE", "")).endswith("sqlite3"):
            continue
        wanted = plan(settings_dict, sqlite)
        if wanted.in_memory:
            continue  # no file, no journal, nothing to lose on power loss
        where = _source_name(alias, wanted.synchronous_source)
        if wanted.synchronous in {"NORMAL", "OFF"}:
            lost = (
                "the last transactions committed before a power loss or an OS crash can be "
                "lost (an application crash loses nothing)"
                if wanted.synchronous == "NORMAL"
                else "a power loss or an OS crash can lose committed transactions and corrupt "
                "the database file"
            )
            messages.append(
                Warning(
                    f"SQLite database {alias!r} runs with synchronous={wanted.synchronous} "
                    f"({where}): commits return before they are on disk, so {lost}.",
                    hint="Remove the override to keep the toolkit's default "
                    "synchronous=FULL, or add 'toolkit.W004' to SILENCED_SYSTEM_CHECKS if "
                    "that loss is acceptable.",
                    id="toolkit.W004",
                    obj=f"settings.DATABASES[{alias!r}]",
                )
            )
        if wanted.journal_mode is not None and wanted.journal_mode != "WAL":
            messages.append(
                Warning(
                    f"SQLite database {alias!r} runs with journal_mode={wanted.journal_mode} "
                    f"({_source_name(alias, wanted.journal_mode_source)}): readers block the "
                    "writer and every commit rewrites the journal, several times slower "
                    "than WAL.",
                    hint="Remove the override to keep the toolkit's default journal_mode=WAL.",
                    id="toolkit.W005",
                    obj=f"settings.DATABASES[{alias!r}]",
                )
            )
        if wanted.transaction_mode != "IMMEDIATE":
            messages.append(
                Warning(
                    f"SQLite database {alias!r} has transaction_mode="
                    f"{wanted.transaction_mode!r}: a transaction that reads and then writes "
                    "(an append inside atomic()) fails with 'database is locked' when "
                    "another process writes, instead of waiting for the lock.",
                    hint=f"Remove OPTIONS['transaction_mode'] from settings.DATABASES"
                    f"[{alias!r}] (the toolkit then uses 'IMMEDIATE') or set it to "
                    "'IMMEDIATE'.",
                    id="toolkit.W006",
                    obj=f"settings.DATABASES[{alias!r}]",
                )
            )
    return messages


def _source_name(alias: str, source: str) -> str:
    if source == "init_command":
        return f"set by settings.DATABASES[{alias!r}]['OPTIONS']['init_command']"
    return "set by settings.TOOLKIT['sqlite']"
