"""The request type of the panel's views and the one rule for page vs fragment."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
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


def confirmation_page(
    request: HttpRequest, *, question: str, button: str, cancel_url: str
) -> HttpResponse | None:
    """Ask before a destructive POST that came from a form without JavaScript, else None.

    Action forms carry ``<input type="hidden" name="confirmed" value="0">`` and, for htmx,
    ``hx-vals='{"confirmed": "1"}'`` after their ``hx-confirm`` dialog. Without JavaScript
    nothing asked, so ``confirmed=0`` arrives: this renders a page that repeats the question
    and re-posts the same fields with ``confirmed=1``. A client that sends no ``confirmed``
    at all (a script, a test) is not asked.
    """
    if request.POST.get("confirmed") != "0":
        return None
    fields = [
        (name, value)
        for name, value in request.POST.items()
        if name not in ("csrfmiddlewaretoken", "confirmed")
    ]
    context = {
        "title": question,
        "question": question,
        "button": button,
        "action": request.path,
        "fields": fields,
        "cancel_url": cancel_url,
    }
    return render(request, "patterns_admin/confirm_post.html", context)


def nul_errors(**values: str) -> list[str]:
    """One message per value that holds a NUL character, which no text column can store
    (PostgreSQL refuses it, with a ``DataError`` that would be a 500): the caller answers 400
    before anything reaches the database."""
    return [
        f"{name}: null characters are not allowed (got {value!r})."
        for name, value in values.items()
        if "\x00" in value
    ]


def render_page(
    request: HttpRequest,
    template_name: str,
    context: dict[str, Any],
    *,
    failed: bool = False,
    fragment: str = "results",
) -> HttpResponse:
    """Render a panel page, or only its ``#<fragment>`` partial for htmx. A page refused for
    its input (``failed``: the errors are on it) answers 400; the partial stays 200, because
    htmx swaps only 2xx answers in place and the partial shows the errors itself."""
    partial = wants_fragment(request)
    if partial:
        template_name += f"#{fragment}"
    return render(request, template_name, context, status=400 if failed and not partial else 200)


def bad_request(request: HttpRequest, errors: list[str]) -> HttpResponse:
    """A 400 that lists ``errors``: the panel's page, or only the message for htmx (which
    swaps 4xx answers in place). Nothing was changed."""
    template = "patterns_admin/partials/refused.html"
    if not wants_fragment(request):
        template = "patterns_admin/400.html"
    return render(request, template, {"errors": errors, "title": "Bad request"}, status=400)
