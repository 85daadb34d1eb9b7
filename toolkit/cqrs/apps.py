from __future__ import annotations

from django.apps import AppConfig


class CqrsConfig(AppConfig):
    """``toolkit.cqrs``: master outbox, replica revisions, gaps and the dead-letter store."""

    name = "toolkit.cqrs"
    label = "toolkit_cqrs"
    verbose_name = "Toolkit CQRS"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: the settings check and model registration hook.
        from toolkit.checks import add_check
        from toolkit.cqrs import mixins  # noqa: F401
        from toolkit.cqrs.checks import check_cqrs_models
        from toolkit.cqrs.conf import check_cqrs_settings

        for check in (check_cqrs_settings, check_cqrs_models):
            if check not in _registered:
                add_check(check)
                _registered.append(check)


_registered: list[object] = []
