from django.apps import AppConfig


class CqrsConfig(AppConfig):
    """``toolkit.cqrs``: replica revisions and the dead-letter store."""

    name = "toolkit.cqrs"
    label = "toolkit_cqrs"
    verbose_name = "Toolkit CQRS"
    default_auto_field = "django.db.models.BigAutoField"
