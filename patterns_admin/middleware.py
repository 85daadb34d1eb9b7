"""Keep htmx requests out of the login page: a lost session sends the whole tab to the login.

Add it after django-htmx's middleware::

    MIDDLEWARE = [
        ...,
        "django_htmx.middleware.HtmxMiddleware",
        "patterns_admin.middleware.HtmxLoginRedirectMiddleware",
    ]
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def login_paths() -> frozenset[str]:
    """The paths of the login pages a view may redirect to: ``LOGIN_URL`` and the admin's."""
    paths = {urlparse(resolve_url(settings.LOGIN_URL)).path}
    try:
        paths.add(reverse("admin:login"))
    except NoReverseMatch:  # the admin is not installed
        pass
    return frozenset(paths)


class HtmxLoginRedirectMiddleware:
    """Turn a redirect to the login page, answered to an htmx request, into ``HX-Redirect``.

    Without it, when the session has expired (or the user logged out in another tab), the next
    htmx request (a filter, a sort, the live tail's poll, the home page's refresh) follows the
    ``302`` inside XMLHttpRequest and swaps the *login page* into the middle of the panel, under
    a header that still says "Welcome". With it, htmx gets ``200`` + ``HX-Redirect`` and sends
    the whole tab to the login page, whose ``next`` is the page the user was on
    (``HX-Current-URL``), not the fragment URL that was asked for. Polls stop with the page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code not in _REDIRECTS or request.headers.get("HX-Request") != "true":
            return response
        location = urlparse(response.get("Location", ""))
        if location.path not in login_paths():
            return response
        htmx: HtmxDetails | None = getattr(request, "htmx", None)
        current = htmx.current_url_abs_path if htmx is not None else None
        next_url = current or request.get_full_path()
        return HttpResponseClientRedirect(f"{location.path}?{urlencode({'next': next_url})}")
