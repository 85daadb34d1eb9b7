"""URLs of the allocation demo (included under ``/allocation/``)."""

from __future__ import annotations

from django.urls import path

from demo.allocation import views

app_name = "allocation"

urlpatterns = [
    path("", views.index, name="index"),
    path("add_batch/", views.add_batch, name="add-batch"),
    path("allocate/", views.allocate, name="allocate"),
    path("orders/<str:orderid>/", views.order_allocations, name="order-allocations"),
]
