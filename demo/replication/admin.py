"""Admin of the replication demo: masters get the "Synchronise selected via CQRS" action."""

from __future__ import annotations

from django.contrib import admin

from demo.replication.models import Customer, CustomerReplica, Product, ProductReplica
from toolkit.cqrs.admin import CQRSAdminMasterSyncMixin


@admin.register(Product)
class ProductAdmin(CQRSAdminMasterSyncMixin, admin.ModelAdmin):
    list_display = ["sku", "name", "price", "stock", "is_active", "cqrs_revision"]


@admin.register(Customer)
class CustomerAdmin(CQRSAdminMasterSyncMixin, admin.ModelAdmin):
    list_display = ["first_name", "last_name", "email", "tier", "cqrs_revision"]


@admin.register(ProductReplica)
class ProductReplicaAdmin(admin.ModelAdmin):
    list_display = ["sku", "title", "price", "stock", "cqrs_revision"]


@admin.register(CustomerReplica)
class CustomerReplicaAdmin(admin.ModelAdmin):
    list_display = ["display_name", "email_domain", "tier", "previous_tier", "cqrs_revision"]
