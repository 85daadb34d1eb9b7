"""Production settings example: the demo's settings hardened for deployment behind HTTPS.

Passes ``manage.py check --deploy --fail-level WARNING`` (``make deploy-check`` runs it in CI).
Everything secret or host-specific comes from the environment:

``DJANGO_SECRET_KEY`` (required, at least 50 characters), ``DJANGO_ALLOWED_HOSTS``
(required, comma-separated), ``DATABASE_URL`` (PostgreSQL in production), ``REDIS_URL``
(optional cache), ``DJANGO_HSTS_SECONDS`` (default one year), ``DJANGO_SECURE_PROXY_HEADER``
(set to ``1`` when a proxy terminates TLS and sends ``X-Forwarded-Proto``),
``DJANGO_METRICS_TOKEN`` (optional, at least 32 characters: the bearer token Prometheus sends
to scrape ``/metrics``; without it only staff users can read ``/metrics``).

Use it with ``DJANGO_SETTINGS_MODULE=demo.settings_production``.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from demo.settings import *  # noqa: F403


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} must be set for demo.settings_production."
        )
    return value


DEBUG = False
SECRET_KEY = _required("DJANGO_SECRET_KEY")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY is {len(SECRET_KEY)} characters long; use at least 50 "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
ALLOWED_HOSTS = [host.strip() for host in _required("DJANGO_ALLOWED_HOSTS").split(",")]
# ".example.org" in ALLOWED_HOSTS means every subdomain: "https://*.example.org" for CSRF.
CSRF_TRUSTED_ORIGINS = [
    f"https://*{host}" if host.startswith(".") else f"https://{host}"
    for host in ALLOWED_HOSTS
    if host != "*"
]

# HTTPS everywhere: redirect plain HTTP, tell browsers to stay on HTTPS (HSTS).
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
if os.environ.get("DJANGO_SECURE_PROXY_HEADER") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Cookies only over HTTPS, never readable from JavaScript where the panel does not need it.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# /metrics names services, stories and error rates: staff users and the scraper's token only.
METRICS_REQUIRE_AUTH = True
METRICS_BEARER_TOKEN = os.environ.get("DJANGO_METRICS_TOKEN", "").strip()
if METRICS_BEARER_TOKEN and len(METRICS_BEARER_TOKEN) < 32:
    raise ImproperlyConfigured(
        f"DJANGO_METRICS_TOKEN is {len(METRICS_BEARER_TOKEN)} characters long; use at least 32 "
        "(python -c 'import secrets; print(secrets.token_urlsafe(32))')."
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
