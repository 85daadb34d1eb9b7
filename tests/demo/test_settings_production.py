"""``demo/settings_production.py``: secrets from the environment, hardened defaults."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import pytest
from django.core.exceptions import ImproperlyConfigured

GOOD_KEY = "k" * 30 + "0123456789abcdefghij"


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for name in (
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_SECURE_PROXY_HEADER",
        "DJANGO_METRICS_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "demo.settings_production", raising=False)
    return importlib.import_module("demo.settings_production")


def test_missing_secret_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        load(monkeypatch, DJANGO_ALLOWED_HOSTS="panel.example.com")
    assert excinfo.value.args == (
        "The environment variable DJANGO_SECRET_KEY must be set for demo.settings_production.",
    )


def test_short_secret_key_is_refused_with_its_length(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        load(monkeypatch, DJANGO_SECRET_KEY="short", DJANGO_ALLOWED_HOSTS="panel.example.com")
    assert excinfo.value.args[0].startswith(
        "DJANGO_SECRET_KEY is 5 characters long; use at least 50"
    )


def test_missing_allowed_hosts_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        load(monkeypatch, DJANGO_SECRET_KEY=GOOD_KEY)
    assert excinfo.value.args == (
        "The environment variable DJANGO_ALLOWED_HOSTS must be set for demo.settings_production.",
    )


def test_hardened_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load(
        monkeypatch,
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS="panel.example.com, .example.org",
        DJANGO_SECURE_PROXY_HEADER="1",
    )
    assert settings.DEBUG is False
    assert settings.SECRET_KEY == GOOD_KEY
    assert settings.ALLOWED_HOSTS == ["panel.example.com", ".example.org"]
    assert settings.CSRF_TRUSTED_ORIGINS == ["https://panel.example.com", "https://*.example.org"]
    assert settings.SECURE_SSL_REDIRECT is True
    assert settings.SECURE_HSTS_SECONDS == 365 * 24 * 3600
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


def test_metrics_are_protected_with_the_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hosts = "panel.example.com"
    settings = load(monkeypatch, DJANGO_SECRET_KEY=GOOD_KEY, DJANGO_ALLOWED_HOSTS=hosts)
    assert (settings.METRICS_REQUIRE_AUTH, settings.METRICS_BEARER_TOKEN) == (True, "")
    token = "m" * 32
    settings = load(
        monkeypatch,
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS=hosts,
        DJANGO_METRICS_TOKEN=token,
    )
    assert token == settings.METRICS_BEARER_TOKEN


def test_short_metrics_token_is_refused_with_its_length(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        load(
            monkeypatch,
            DJANGO_SECRET_KEY=GOOD_KEY,
            DJANGO_ALLOWED_HOSTS="panel.example.com",
            DJANGO_METRICS_TOKEN="short",
        )
    assert excinfo.value.args[0].startswith(
        "DJANGO_METRICS_TOKEN is 5 characters long; use at least 32"
    )
