from django.apps import AppConfig


class AllocationConfig(AppConfig):
    """Demo: the Cosmic Python allocation domain built with toolkit.ddd and toolkit.stories."""

    name = "demo.allocation"
    label = "allocation"
    default_auto_field = "django.db.models.BigAutoField"
