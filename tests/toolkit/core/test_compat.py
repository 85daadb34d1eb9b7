"""toolkit.core.compat: Django's ImproperlyConfigured when installed, optional imports."""

from __future__ import annotations

import json
import sys

import pytest
from django.core import exceptions as django_exceptions

from toolkit.core.compat import ImproperlyConfigured, optional_import
from toolkit.core.exceptions import MissingDependencyError


def test_improperly_configured_is_djangos_when_django_is_installed() -> None:
    assert ImproperlyConfigured is django_exceptions.ImproperlyConfigured


def test_optional_import_returns_the_module() -> None:
    assert optional_import("json", extra="unused") is json


def test_a_missing_optional_dependency_names_the_extra_and_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg 3 were not installed
    with pytest.raises(MissingDependencyError) as exc_info:
        optional_import("psycopg", extra="postgres", install="psycopg[binary]")
    assert exc_info.value.args == (
        "Package 'psycopg' is not installed but required. You can install it by running "
        "`pip install 'django-pattern-toolkit[postgres]'` to install the toolkit with the "
        "required extra or 'pip install psycopg[binary]' to install the package separately",
    )
    assert isinstance(exc_info.value, ImportError)
