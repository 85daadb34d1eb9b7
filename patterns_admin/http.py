"""The request type of the panel's views and the one rule for page vs fragment."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """An ``HttpRequest`` that went through ``django_htmx.middleware.HtmxMiddleware``.

    Annotate panel views with it so ``request.htmx`` type-checks::

        def audit_list(request: HtmxHttpRequest) -> HttpResponse: ...
    """

    htmx: HtmxDetails


def wants_fragment(request: HttpRequest) -> bool:
    """Whether to render only the page's partial instead of the whole page.

    True for an htmx request, except boosted navigation and history restores: those also send
    ``HX-Request`` but swap the whole ``<body>``, so they need the full page.
    """
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    if htmx is None or not htmx:
        return False
    return not htmx.boosted and not htmx.history_restore_request
