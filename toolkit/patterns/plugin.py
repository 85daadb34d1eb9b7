"""Plugin registry: discover plugins from entry points, enable/disable them for every process.

::

    # pyproject.toml of a third-party package
    [project.entry-points."toolkit.plugins"]
    my_plugin = "my_package:MyPlugin"

    registry = PluginRegistry(state=DjangoPluginState())  # PluginRegistry(): in memory
    registry.load_entry_points()            # the TOOLKIT["patterns"]["plugin_group"] group
    registry.register("extra", ExtraPlugin)  # or by hand
    registry.disable("my_plugin", user=request.user)  # persisted; deactivate() runs
    for meta in registry.list_plugins():
        print(meta.name, meta.version, meta.status, meta.error)

Rules:

- A plugin whose entry point fails to import is listed with ``status="failed"`` and the error;
  the others load normally.
- Enabled/disabled lives in a state store. ``PluginRegistry()`` keeps it in memory, so a
  registry built in user code or a unit test needs no database (as in dmr-toolkit 0.1.0).
  The process registry of :func:`get_plugin_registry` uses the Django adapter,
  :class:`~toolkit.patterns.plugin_state.DjangoPluginState`: a ``toolkit.models.PluginState``
  row (no row = enabled) that every process honours. Before answering ``is_enabled(name)`` or
  ``list_plugins`` a registry re-reads the state (inside a request, once per request) and calls
  ``activate()`` / ``deactivate()`` on its own plugin instances to match. Code that relies on a
  plugin's side effects asks ``is_enabled(name)`` at its hook point (the demo's guard and bus
  handler do), or calls ``sync()`` (e.g. at worker start).
- ``version`` is the plugin class's ``version`` attribute, else its distribution's version.

The registry itself is pure Python; only its state store may touch a database.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from toolkit.conf import on_reload
from toolkit.core.exceptions import DuplicatePlugin, PluginNotFound, ValidationError

__all__ = [
    "MemoryPluginState",
    "Plugin",
    "PluginMeta",
    "PluginRegistry",
    "PluginStateStore",
    "PluginStatus",
    "get_plugin_registry",
]

logger = logging.getLogger("toolkit.plugins")

PluginStatus = Literal["active", "disabled", "failed"]


class Plugin:
    """Base class of plugins: override :meth:`activate` and :meth:`deactivate`.

    ``name`` is a human-readable name (the registry key comes from the entry point or
    ``register``); ``version`` overrides the distribution's version when set.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str | None] = None

    def activate(self) -> None:
        """Start the plugin's behaviour in this process (connect handlers, ...)."""

    def deactivate(self) -> None:
        """Undo :meth:`activate`."""


@dataclass(frozen=True)
class PluginMeta:
    """What ``list_plugins`` reports about one plugin."""

    name: str
    version: str | None
    status: PluginStatus
    error: str | None = None
    plugin: type[Any] | None = None
    entry_point: str | None = None
    description: str = ""

    @property
    def enabled(self) -> bool:
        """False only when the plugin is disabled by its persisted state."""
        return self.status != "disabled"

    @property
    def plugin_class(self) -> type[Any] | None:
        """dmr-toolkit 0.1.0's name for :attr:`plugin`."""
        return self.plugin


class PluginStateStore(Protocol):
    """Where a registry keeps enabled/disabled; names without a state are enabled."""

    def read(self, name: str) -> bool:
        """Whether ``name`` is enabled."""

    def read_all(self) -> dict[str, bool]:
        """Every stored ``{name: enabled}``."""

    def write(self, name: str, enabled: bool, user: Any = None) -> None:
        """Store ``enabled`` for ``name``; ``user`` is who asked (stores may record it)."""


class MemoryPluginState:
    """Enabled/disabled of this process only: the default store, needing no database."""

    def __init__(self) -> None:
        self._states: dict[str, bool] = {}

    def read(self, name: str) -> bool:
        return self._states.get(name, True)

    def read_all(self) -> dict[str, bool]:
        return dict(self._states)

    def write(self, name: str, enabled: bool, user: Any = None) -> None:
        self._states[name] = enabled


@dataclass
class _Entry:
    name: str
    plugin: type[Any] | None
    version: str | None
    entry_point: str | None = None
    error: str | None = None  # import or activation error
    instance: Any = None
    active: bool = False
    dist_checked: bool = False


class PluginRegistry:
    """Named plugin classes of one process, with enable/disable kept in ``state``.

    ``state`` defaults to a :class:`MemoryPluginState`; pass
    ``toolkit.patterns.plugin_state.DjangoPluginState()`` to persist it for every process
    (what :func:`get_plugin_registry` does).
    """

    def __init__(self, *, state: PluginStateStore | None = None) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()
        self.state: PluginStateStore = state if state is not None else MemoryPluginState()

    # -- registration (pure) ----------------------------------------------------------------

    def register(self, name: str, plugin: type[Any], *, version: str | None = None) -> type[Any]:
        """Register the class ``plugin`` under ``name``; ``DuplicatePlugin`` if it is taken.

        The version is ``version``, else the class's ``version`` attribute, else the version
        of the installed distribution that ships the class's top-level package (looked up
        once, when first listed), else None.
        """
        if not isinstance(name, str) or not name:
            raise ValidationError(
                f"A plugin name must be a non-empty string, not {name!r}", field="name", value=name
            )
        _check_plugin_class(name, plugin)
        with self._lock:
            if name in self._entries:
                raise DuplicatePlugin(name)
            self._entries[name] = _Entry(
                name, plugin, version or _class_version(plugin), entry_point=None
            )
        return plugin

    def get(self, name: str) -> type[Any]:
        """Return the plugin class registered under ``name`` (``PluginNotFound`` otherwise).

        A plugin that failed to import has no class: it raises ``PluginNotFound`` too, and
        ``list_plugins`` shows its error.
        """
        entry = self._entries.get(name)
        if entry is None or entry.plugin is None:
            raise PluginNotFound(name, self._loaded_names())
        return entry.plugin

    def unregister(self, name: str) -> None:
        """Deactivate (if active) and forget ``name``."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                raise PluginNotFound(name, list(self._entries))
            if entry.active:
                self._deactivate(entry)
            del self._entries[name]

    def names(self) -> list[str]:
        """Every registered name, failed ones included, sorted."""
        return sorted(self._entries)

    def load_entry_points(self, group: str | None = None) -> list[str]:
        """Register every plugin of the entry-point ``group`` and return their names.

        ``group`` defaults to ``TOOLKIT["patterns"]["plugin_group"]``. Entry points already
        registered with the same class are skipped; one that fails to import is recorded as
        failed with its error, and the others still load.
        """
        if group is None:
            from toolkit.conf import toolkit_settings

            group = str(toolkit_settings.patterns["plugin_group"])
        return self.load(importlib.metadata.entry_points(group=group))

    def load(self, entry_points: Iterable[importlib.metadata.EntryPoint]) -> list[str]:
        """Register the plugins of ``entry_points`` (what ``load_entry_points`` does).

        An entry point that fails to import, or names something that is not a plugin class,
        is recorded as failed and the others still load. A name already registered with
        another class raises ``DuplicatePlugin`` once all the others are loaded.
        """
        loaded: list[str] = []
        duplicates: list[str] = []
        for entry_point in sorted(entry_points, key=lambda ep: ep.name):
            dist_version = _dist_version(entry_point)
            try:
                plugin = entry_point.load()
                _check_plugin_class(entry_point.name, plugin)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                logger.warning(
                    "Plugin %r (%s) failed to load: %s", entry_point.name, entry_point.value, error
                )
                with self._lock:
                    current = self._entries.get(entry_point.name)
                    if current is None or current.plugin is None:
                        self._entries[entry_point.name] = _Entry(
                            entry_point.name, None, dist_version, entry_point.value, error
                        )
                continue
            with self._lock:
                current = self._entries.get(entry_point.name)
                if current is not None and current.plugin is plugin:
                    continue
                if current is not None and current.plugin is not None:
                    duplicates.append(entry_point.name)
                    continue
                self._entries[entry_point.name] = _Entry(
                    entry_point.name,
                    plugin,
                    _class_version(plugin) or dist_version,
                    entry_point=entry_point.value,
                )
            loaded.append(entry_point.name)
        if duplicates:
            raise DuplicatePlugin(duplicates[0])
        return loaded

    # -- persisted state ------------------------------------------------------------------------

    def enable(self, name: str, *, user: Any = None) -> PluginMeta:
        """Persist "enabled" for ``name`` and activate it in this process."""
        return self._set_enabled(name, True, user)

    def disable(self, name: str, *, user: Any = None) -> PluginMeta:
        """Persist "disabled" for ``name`` and deactivate it in this process."""
        return self._set_enabled(name, False, user)

    def is_enabled(self, name: str) -> bool:
        """Whether ``name`` is enabled now, activating/deactivating it here to match.

        Re-reads only this plugin's state (with the Django store: one indexed single-row
        query, or the request's cached copy), so a hook point may call it on every use: a
        disable made by another process is honoured at the next call (the next request).
        """
        entry = self._entries.get(name)
        if entry is None:
            raise PluginNotFound(name, list(self._entries))
        enabled = self.state.read(name)
        with self._lock:
            self._apply(entry, enabled)
        return enabled

    def list_plugins(self) -> list[PluginMeta]:
        """Every plugin with its version, status and error, sorted by name (after a sync)."""
        states = self.sync()
        with self._lock:
            return [self._meta(entry, states) for _, entry in sorted(self._entries.items())]

    def sync(self) -> dict[str, bool]:
        """Re-read the persisted states; activate/deactivate this process's plugins to match.

        Returns the persisted ``{name: enabled}`` rows (absent names are enabled).
        """
        states = self.state.read_all()
        with self._lock:
            for name, entry in self._entries.items():
                self._apply(entry, states.get(name, True))
        return states

    def shutdown(self) -> None:
        """Deactivate every active plugin of this registry (no state is written)."""
        with self._lock:
            for entry in self._entries.values():
                if entry.active:
                    self._deactivate(entry)

    # -- internals -------------------------------------------------------------------------------

    def _loaded_names(self) -> list[str]:
        return [name for name, entry in self._entries.items() if entry.plugin is not None]

    def _set_enabled(self, name: str, enabled: bool, user: Any) -> PluginMeta:
        entry = self._entries.get(name)
        if entry is None:
            raise PluginNotFound(name, list(self._entries))
        self.state.write(name, enabled, user)
        with self._lock:
            self._apply(entry, enabled)
            return self._meta(entry, {name: enabled})

    def _apply(self, entry: _Entry, enabled: bool) -> None:
        if entry.plugin is None:
            return
        if enabled and not entry.active:
            try:
                if entry.instance is None:
                    entry.instance = entry.plugin()
                entry.instance.activate()
            except Exception as exc:
                entry.error = f"activate() failed: {type(exc).__name__}: {exc}"
                logger.exception("Plugin %r failed to activate", entry.name)
                return
            entry.active, entry.error = True, None
        elif not enabled and entry.active:
            self._deactivate(entry)

    def _version(self, entry: _Entry) -> str | None:
        plugin = entry.plugin
        manual = entry.entry_point is None  # entry points carry their distribution's version
        if manual and plugin is not None and entry.version is None and not entry.dist_checked:
            # The class's distribution, looked up once (it scans the installed ones).
            entry.version = _module_dist_version(plugin.__module__)
            entry.dist_checked = True
        return entry.version

    def _deactivate(self, entry: _Entry) -> None:
        try:
            entry.instance.deactivate()
        except Exception as exc:
            entry.error = f"deactivate() failed: {type(exc).__name__}: {exc}"
            logger.exception("Plugin %r failed to deactivate", entry.name)
        entry.active = False

    def _meta(self, entry: _Entry, states: dict[str, bool]) -> PluginMeta:
        status: PluginStatus
        if entry.error is not None and not entry.active:
            status = "failed"
        elif not states.get(entry.name, True):
            status = "disabled"
        else:
            status = "active"
        plugin = entry.plugin
        doc = (plugin.__doc__ or "").strip().splitlines() if plugin is not None else []
        return PluginMeta(
            name=entry.name,
            version=self._version(entry),
            status=status,
            error=entry.error,
            plugin=plugin,
            entry_point=entry.entry_point,
            description=doc[0] if doc else "",
        )


def _check_plugin_class(name: str, plugin: Any) -> None:
    if not isinstance(plugin, type) or not all(
        callable(getattr(plugin, method, None)) for method in ("activate", "deactivate")
    ):
        raise ValidationError(
            f"Plugin {name!r} must be a class with activate() and deactivate(), not {plugin!r}",
            field="plugin",
            value=plugin,
        )


def _class_version(plugin: type[Any]) -> str | None:
    version = getattr(plugin, "version", None)
    return str(version) if version else None


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _module_dist_version(module: str) -> str | None:
    """The version of the one distribution that ships ``module``'s top-level package."""
    dists = _packages_distributions().get(module.partition(".")[0], [])
    if len(set(dists)) != 1:
        return None  # not installed, or ambiguous (namespace package of several)
    try:
        return importlib.metadata.version(dists[0])
    except importlib.metadata.PackageNotFoundError:
        return None


def _dist_version(entry_point: importlib.metadata.EntryPoint) -> str | None:
    dist = getattr(entry_point, "dist", None)
    if dist is not None:
        return str(dist.version)
    return None


_default: PluginRegistry | None = None
_default_lock = threading.Lock()


def get_plugin_registry() -> PluginRegistry:
    """The process default registry, loaded from the ``plugin_group`` setting on first use.

    Its state is persisted in ``PluginState`` rows (the Django adapter), shared by every
    process.
    """
    global _default
    registry = _default
    if registry is not None:
        return registry
    # The Django adapter is imported here, not at module level: the registry core needs none.
    from toolkit.patterns.plugin_state import DjangoPluginState

    with _default_lock:
        if _default is None:
            registry = PluginRegistry(state=DjangoPluginState())
            registry.load_entry_points()
            _default = registry
        return _default


def reset_plugin_registry() -> None:
    """Deactivate and drop the default registry; the next call reloads it (settings change)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.shutdown()
        _default = None


# A TOOLKIT change (override_settings in tests, a reloaded config) may change plugin_group.
on_reload(reset_plugin_registry)
