"""The panel's home page."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@staff_member_required
def index(request: HttpRequest) -> HttpResponse:
    """Counts, recent activity and links to every area of the panel."""
    return render(request, "patterns_admin/index.html", {})
