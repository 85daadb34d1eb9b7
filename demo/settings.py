"""Settings of the demo site: SQLite (WAL) and local-memory cache unless told otherwise.

Environment variables: ``DATABASE_URL`` (sqlite:/// or postgres://), ``REDIS_URL`` (use Redis
as the cache), ``DJANGO_DEBUG`` (default on for the demo), ``DJANGO_SECRET_KEY``.
See ``demo/settings_production.py`` for a deployment-checked example.
"""

from __future__ import annotations

import os
from pathlib import Path

from demo.dburl import parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-insecure-key-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver"
).split(",")

INSTALLED_APPS = [
    # Before django.contrib.admin: its admin/ template overrides (admin index link to the panel)
    # must win the APP_DIRS lookup when installed from the wheel, without DIRS.
    "patterns_admin",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "django_tables2",
    "template_partials",
    "toolkit",
    "toolkit.cqrs",
    "demo.shop",
    "demo.allocation",
    "demo.replication",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After django-htmx: a lost session sends the tab to the login page (HX-Redirect).
    "patterns_admin.middleware.HtmxLoginRedirectMiddleware",
]
# A stale token in the panel gets a message and a fresh token, not Django's raw 403 page.
CSRF_FAILURE_VIEW = "patterns_admin.views.errors.csrf_failure"

ROOT_URLCONF = "demo.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "demo.wsgi.application"
ASGI_APPLICATION = "demo.asgi.application"

DATABASES = {
    "default": parse_database_url(
        os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3"), base_dir=BASE_DIR
    )
}

if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "admin:login"
# /metrics is public here (a local Prometheus scrapes it); settings_production.py turns this on:
# then only staff users and a scraper sending ``Authorization: Bearer <METRICS_BEARER_TOKEN>``.
METRICS_REQUIRE_AUTH = False
METRICS_BEARER_TOKEN = ""
# The demo sends mail (allocation's out-of-stock notice) to the console unless told otherwise.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)

TOOLKIT = {
    "patterns": {
        "audit": True,
        "cache_backend": "default",
        "event_bus": "default",
        "event_store_backend": "django",
        "plugin_group": "toolkit_demo.plugins",
    },
    # The panel masks these in pages and exports for users without view_sensitive.
    "admin": {"sensitive_fields": ["email", "address"]},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
