from django.apps import AppConfig


class ShopConfig(AppConfig):
    """Demo shop: orders with a state machine, undoable commands, plugins, pricing strategies."""

    name = "demo.shop"
    label = "shop"
    default_auto_field = "django.db.models.BigAutoField"
