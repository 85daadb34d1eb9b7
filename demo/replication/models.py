"""Demo: master models and their replicas in one project.

``Product`` → ``ProductReplica``: default serialisation (every field) and a field mapping.
``Customer`` → ``CustomerReplica``: a custom serializer, tracked fields (``previous_data``),
payload metadata and a replica with custom serialisation.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from toolkit.cqrs.mixins import MasterMixin, ReplicaMixin


class Product(MasterMixin, models.Model):
    """Master: a product of the catalogue service."""

    CQRS_ID = "product"

    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class ProductReplica(ReplicaMixin, models.Model):
    """Replica of ``Product`` as a storefront service would hold it (``name`` → ``title``)."""

    CQRS_ID = "product"
    CQRS_MAPPING = {"name": "title"}

    id = models.BigIntegerField(primary_key=True)
    sku = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.sku} {self.title} (r{self.cqrs_revision})"


class Customer(MasterMixin, models.Model):
    """Master: a customer of the accounts service, serialised by ``CustomerSerializer``."""

    CQRS_ID = "customer"
    CQRS_SERIALIZER = "demo.replication.serializers.CustomerSerializer"
    CQRS_TRACKED_FIELDS = ["email", "tier"]

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    tier = models.CharField(max_length=20, default="standard")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_cqrs_meta(self, **kwargs: Any) -> dict[str, Any]:
        return {"source": "accounts"}


class CustomerReplica(ReplicaMixin, models.Model):
    """Replica of ``Customer`` with custom serialisation: one display name, the email domain."""

    CQRS_ID = "customer"
    CQRS_CUSTOM_SERIALIZATION = True
    CQRS_META = True

    id = models.BigIntegerField(primary_key=True)
    display_name = models.CharField(max_length=201)
    email_domain = models.CharField(max_length=200)
    tier = models.CharField(max_length=20)
    previous_tier = models.CharField(max_length=20, blank=True, default="")
    source = models.CharField(max_length=50, blank=True, default="")

    def __str__(self) -> str:
        return self.display_name

    @staticmethod
    def _values(
        data: dict[str, Any], previous: dict[str, Any] | None, meta: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "display_name": data["full_name"],
            "email_domain": data["email"].rsplit("@", 1)[-1],
            "tier": data["tier"],
            "previous_tier": (previous or {}).get("tier") or "",
            "source": (meta or {}).get("source", ""),
            "cqrs_revision": data["cqrs_revision"],
            "cqrs_updated": data["cqrs_updated"],
        }

    @classmethod
    def cqrs_create(
        cls,
        sync: bool,
        mapped_data: dict[str, Any],
        previous_data: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> CustomerReplica:
        return cls.objects.create(
            id=mapped_data["id"], **cls._values(mapped_data, previous_data, meta)
        )

    def cqrs_update(
        self,
        sync: bool,
        mapped_data: dict[str, Any],
        previous_data: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> CustomerReplica:
        for name, value in self._values(mapped_data, previous_data, meta).items():
            setattr(self, name, value)
        self.save()
        return self
