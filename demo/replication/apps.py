from django.apps import AppConfig


class ReplicationConfig(AppConfig):
    """Demo: CQRS master and replica models synchronised through toolkit.cqrs."""

    name = "demo.replication"
    label = "replication"
    default_auto_field = "django.db.models.BigAutoField"
