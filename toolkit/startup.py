"""Start-up hooks run from :meth:`toolkit.apps.ToolkitConfig.ready`.

Each sub-package that needs work at start-up (importing ``handlers.py`` of installed apps,
loading plugin state, ...) registers a callable here with :func:`on_startup` at import time of
its Django adapter module. Keeping the list here lets ``ready()`` stay one line.
"""

from __future__ import annotations

from collections.abc import Callable

_hooks: list[Callable[[], None]] = []


def on_startup(func: Callable[[], None]) -> Callable[[], None]:
    """Register ``func`` to run once when the ``toolkit`` app is ready."""
    _hooks.append(func)
    return func


def run_startup_hooks() -> None:
    """Run every registered hook in registration order."""
    # Adapter modules register their hooks when imported; import them here so that a
    # project only has to list "toolkit" in INSTALLED_APPS.
    import importlib

    for module in STARTUP_MODULES:
        importlib.import_module(module)
    for hook in list(_hooks):
        hook()


#: Modules imported at start-up; each may call :func:`on_startup`.
STARTUP_MODULES: list[str] = ["toolkit.eventsourcing.startup"]
