"""What the panel answers when Django's CSRF check refuses a request.

Point ``CSRF_FAILURE_VIEW`` at :func:`csrf_failure`::

    CSRF_FAILURE_VIEW = "patterns_admin.views.errors.csrf_failure"

Requests outside the panel get Django's own page, unchanged.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.csrf import csrf_failure as django_csrf_failure
from django_htmx.http import reswap, trigger_client_event

from patterns_admin.http import wants_fragment

logger = logging.getLogger("patterns_admin.permissions")

#: What the operator reads: why it happened, that nothing changed, what to do.
CSRF_MESSAGE = (
    "Your security token had expired, probably because you logged in again in another tab. "
    "Nothing was changed. The page now has a fresh token: please try again."
)


def _in_panel(request: HttpRequest) -> bool:
    try:
        return request.path.startswith(reverse("patterns_admin:index"))
    except NoReverseMatch:  # the panel's URLs are not installed
        return False


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A panel message and a fresh token instead of Django's raw "CSRF verification failed".

    An htmx request gets ``403`` with ``HX-Reswap: none`` (the panel stays as it is), the message
    swapped into ``#panel-messages`` out of band, and the ``panelCsrfRefresh`` event carrying the
    current token, which ``panel.js`` puts into ``hx-headers`` and every form's
    ``csrfmiddlewaretoken``, so the next try passes. A plain form post gets the panel's 403 page
    with the message and a link back. The refusal is logged with the user and Django's reason.
    """
    if not _in_panel(request):
        return django_csrf_failure(request, reason=reason)
    user = getattr(request, "user", None)
    logger.warning(
        "Refused %s %s to %r: CSRF check failed (%s)",
        request.method,
        request.path,
        user.get_username() if user is not None and user.is_authenticated else "anonymous",
        reason,
    )
    token = get_token(request)
    referer = request.headers.get("Referer", "")
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    context = {"message": CSRF_MESSAGE, "back": referer if safe else ""}
    if wants_fragment(request):
        html = render_to_string("patterns_admin/partials/csrf_failure.html", context, request)
        response = reswap(HttpResponse(html, status=403), "none")
        return trigger_client_event(response, "panelCsrfRefresh", {"token": token})
    html = render_to_string(
        "patterns_admin/csrf_failure.html", {**context, "title": "Please try again"}, request
    )
    return HttpResponse(html, status=403)
