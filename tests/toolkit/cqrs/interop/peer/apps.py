from __future__ import annotations

from django.apps import AppConfig


class PeerConfig(AppConfig):
    name = "tests.toolkit.cqrs.interop.peer"
    label = "peer"
    default_auto_field = "django.db.models.BigAutoField"
