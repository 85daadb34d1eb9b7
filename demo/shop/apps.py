from __future__ import annotations

from django.apps import AppConfig


class ShopConfig(AppConfig):
    """Demo shop: orders with a state machine, undoable commands, plugins, pricing strategies."""

    name = "demo.shop"
    label = "shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: the machine, commands, aggregates, projections and
        # strategies register themselves in toolkit.registry, the bus handlers subscribe.
        from demo.shop import machines  # noqa: F401
