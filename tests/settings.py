"""Test settings: the demo's, with the database picked by ``DATABASE_URL``.

SQLite in memory by default; ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`` runs the
same suite on PostgreSQL. ``TEST_DB_SUFFIX`` keeps parallel runs on one server apart.
"""

from __future__ import annotations

import os

from demo.dburl import parse_database_url
from demo.settings import *  # noqa: F403
from demo.settings import BASE_DIR

DATABASES = {
    "default": parse_database_url(
        os.environ.get("DATABASE_URL", "sqlite:///:memory:"), base_dir=BASE_DIR
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # In memory: each test run gets a fresh database. WAL means nothing there; the toolkit's
    # other SQLite defaults (IMMEDIATE transactions, busy timeout) apply (toolkit/sqlite.py).
    DATABASES["default"]["NAME"] = ":memory:"
else:
    suffix = os.environ.get("TEST_DB_SUFFIX", "main")
    DATABASES["default"]["TEST"] = {"NAME": f"test_toolkit_{suffix}"}

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp", "tests.seedapp"]  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
