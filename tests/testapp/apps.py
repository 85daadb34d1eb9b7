from __future__ import annotations

from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """Models used only by the test suite."""

    name = "tests.testapp"
    label = "testapp"
    default_auto_field = "django.db.models.BigAutoField"
