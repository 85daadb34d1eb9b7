"""System checks for the ``TOOLKIT`` setting (ids ``toolkit.E001`` and up)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, register

from toolkit.conf import validate

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
    for check in list(_extra_checks):
        messages.extend(check())
    return messages


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
