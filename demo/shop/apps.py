from __future__ import annotations

from django.apps import AppConfig


class ShopConfig(AppConfig):
    """Demo shop: orders with a state machine, undoable commands, an event-sourced cart,
    a revenue projection, plugins and pricing strategies."""

    name = "demo.shop"
    label = "shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported for their side effects: the machine, commands, aggregate (and its
        # upcaster), projection and strategies register themselves in toolkit.registry.
        # handlers.py (the bus subscriptions) is imported by the toolkit at start-up.
        from demo.shop import (  # noqa: F401
            carts,
            commands,
            machines,
            projections,
            strategies,
        )
