"""The Django adapter of the plugin registry's state: ``PluginState`` rows, read once a request.

:class:`~toolkit.patterns.plugin.PluginRegistry` keeps enabled/disabled in a state store. Its
default store is in memory (a registry built in user code or a unit test needs no database);
:func:`~toolkit.patterns.plugin.get_plugin_registry` gives the process registry a
:class:`DjangoPluginState`, so a toggle made in one process is honoured by every other::

    registry = PluginRegistry(state=DjangoPluginState())

Outside a request every read is a query (one row for ``is_enabled(name)``, the table for
``list_plugins``), so a shell or a worker sees another process's toggle at once. Inside a
request the first read loads the whole (small) table and later reads of the same request are
answered from it: a page whose guards ask ``is_enabled`` for many rows pays one query, and a
toggle made during the request updates the cached copy. The cache lives from
``request_started`` to ``request_finished``, in a context variable, so concurrent requests
(threads or async tasks) never share one.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import transaction
from django.utils import timezone

__all__ = ["DjangoPluginState", "request_cache"]


class _RequestCache:
    """The persisted states of one request, loaded on first use."""

    __slots__ = ("states",)

    def __init__(self) -> None:
        self.states: dict[str, bool] | None = None


#: The cache of the request being served in this context; None outside a request.
request_cache: ContextVar[_RequestCache | None] = ContextVar(
    "toolkit_plugin_state_cache", default=None
)


def _begin_request(**kwargs: Any) -> None:
    request_cache.set(_RequestCache())


def _end_request(**kwargs: Any) -> None:
    request_cache.set(None)


request_started.connect(_begin_request, dispatch_uid="toolkit.plugin_state.begin")
request_finished.connect(_end_request, dispatch_uid="toolkit.plugin_state.end")


class DjangoPluginState:
    """Plugin states in ``toolkit.models.PluginState`` (no row = enabled), cached per request."""

    def _all(self) -> dict[str, bool]:
        from toolkit.models import PluginState  # models load after apps are ready

        return dict(PluginState.objects.values_list("name", "enabled"))

    def _cached(self) -> dict[str, bool] | None:
        cache = request_cache.get()
        if cache is None:
            return None
        if cache.states is None:
            cache.states = self._all()
        return cache.states

    def read(self, name: str) -> bool:
        """Whether ``name`` is enabled: one single-row query, or the request's copy."""
        states = self._cached()
        if states is not None:
            return states.get(name, True)
        from toolkit.models import PluginState  # models load after apps are ready

        row = PluginState.objects.filter(name=name).values_list("enabled", flat=True).first()
        return True if row is None else bool(row)

    def read_all(self) -> dict[str, bool]:
        """Every persisted ``{name: enabled}`` row (absent names are enabled)."""
        states = self._cached()
        return dict(states) if states is not None else self._all()

    def write(self, name: str, enabled: bool, user: Any = None) -> None:
        """Persist ``enabled`` for ``name``, recording ``user`` when it is a saved user."""
        from toolkit.models import PluginState  # models load after apps are ready

        acting = user if getattr(user, "is_authenticated", False) and user.pk else None
        with transaction.atomic():
            PluginState.objects.update_or_create(
                name=name,
                defaults={"enabled": enabled, "updated_at": timezone.now(), "updated_by": acting},
            )
        cache = request_cache.get()
        if cache is not None and cache.states is not None:
            cache.states[name] = enabled
