"""The django-cqrs side of the interoperability tests: models written against ``dj_cqrs``.

Imported only by the peer subprocess (``peer_settings``), never by the test process.
"""

from __future__ import annotations

from dj_cqrs.mixins import MasterMixin, ReplicaMixin
from django.db import models


class PeerProduct(MasterMixin):
    """A django-cqrs master with the fields of the toolkit demo's ``Product``."""

    CQRS_ID = "product"
    CQRS_TRACKED_FIELDS = ["name", "stock"]

    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        app_label = "peer"


class PeerProductReplica(ReplicaMixin):
    """A django-cqrs replica of the toolkit's ``Product``; keeps the tracked previous name."""

    CQRS_ID = "product"

    id = models.BigIntegerField(primary_key=True)
    sku = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # Nullable: django-cqrs' replica manager refuses data lacking any NOT NULL field.
    previous_name = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        app_label = "peer"

    @classmethod
    def cqrs_create(cls, sync, mapped_data, previous_data=None, meta=None):
        return cls._default_manager.create(
            previous_name=(previous_data or {}).get("name") or "", **mapped_data
        )

    def cqrs_update(self, sync, mapped_data, previous_data=None, meta=None):
        if previous_data and "name" in previous_data:
            self.previous_name = previous_data["name"] or ""
        for key, value in mapped_data.items():
            setattr(self, key, value)
        self.save()
        return self


class PeerCustomerReplica(ReplicaMixin):
    """A django-cqrs replica of the toolkit's serializer-based ``Customer`` (tracked fields)."""

    CQRS_ID = "customer"
    CQRS_CUSTOM_SERIALIZATION = True

    id = models.BigIntegerField(primary_key=True)
    full_name = models.CharField(max_length=201)
    email = models.CharField(max_length=200)
    tier = models.CharField(max_length=20)
    previous_tier = models.CharField(max_length=20, blank=True, default="")
    previous_email = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        app_label = "peer"

    @staticmethod
    def _values(data, previous):
        previous = previous or {}
        return {
            "full_name": data["full_name"],
            "email": data["email"],
            "tier": data["tier"],
            "previous_tier": previous.get("tier") or "",
            "previous_email": previous.get("email") or "",
            "cqrs_revision": data["cqrs_revision"],
            "cqrs_updated": data["cqrs_updated"],
        }

    @classmethod
    def cqrs_create(cls, sync, mapped_data, previous_data=None, meta=None):
        return cls._default_manager.create(
            id=mapped_data["id"], **cls._values(mapped_data, previous_data)
        )

    def cqrs_update(self, sync, mapped_data, previous_data=None, meta=None):
        for key, value in self._values(mapped_data, previous_data).items():
            setattr(self, key, value)
        self.save()
        return self
