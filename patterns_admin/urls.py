"""URLs of the control panel, namespace ``patterns_admin``."""

from __future__ import annotations

from django.urls import path

from patterns_admin.views import home

app_name = "patterns_admin"

urlpatterns = [
    path("", home.index, name="index"),
]
