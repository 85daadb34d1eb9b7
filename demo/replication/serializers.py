"""The custom CQRS serializer of ``Customer`` (any class with ``Serializer(instance).data``)."""

from __future__ import annotations

from typing import Any


class CustomerSerializer:
    """Serialise a customer the way its replicas want it: a full name and the contact data."""

    def __init__(self, instance: Any) -> None:
        self.instance = instance

    @property
    def data(self) -> dict[str, Any]:
        customer = self.instance
        return {
            "id": customer.pk,
            "full_name": f"{customer.first_name} {customer.last_name}",
            "email": customer.email,
            "tier": customer.tier,
            "cqrs_updated": customer.cqrs_updated,
        }
