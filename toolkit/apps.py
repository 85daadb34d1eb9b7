from __future__ import annotations

from django.apps import AppConfig


class ToolkitConfig(AppConfig):
    """The ``toolkit`` app: audit tables, event store tables, settings checks."""

    name = "toolkit"
    label = "toolkit"
    verbose_name = "Pattern toolkit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: system checks, settings reload hooks and the
        # SQLite connection defaults (a connection_created receiver).
        from toolkit import checks, conf, sqlite  # noqa: F401

        # Connects the plugin states' per-request cache to request_started/finished.
        from toolkit.patterns import plugin_state  # noqa: F401
        from toolkit.startup import run_startup_hooks

        run_startup_hooks()
