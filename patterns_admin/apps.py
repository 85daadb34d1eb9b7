from django.apps import AppConfig


class PatternsAdminConfig(AppConfig):
    """The control panel for staff: audit logs, event streams, transitions, undo, plugins."""

    name = "patterns_admin"
    label = "patterns_admin"
    verbose_name = "Patterns control panel"
    default_auto_field = "django.db.models.BigAutoField"
