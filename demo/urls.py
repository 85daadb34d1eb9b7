"""URLs of the demo site: Django admin, the control panel under /panel/."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from demo.allocation.views import metrics

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="patterns_admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("panel/", include("patterns_admin.urls")),
    path("allocation/", include("demo.allocation.urls")),
    path("metrics", metrics, name="metrics"),
]
