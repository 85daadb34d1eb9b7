from __future__ import annotations

from django.apps import AppConfig


class SeedAppConfig(AppConfig):
    """Stand-in models for the seed README examples and the repository/cache/component tests."""

    name = "tests.seedapp"
    label = "seedapp"
    default_auto_field = "django.db.models.BigAutoField"
