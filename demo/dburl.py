"""Turn ``DATABASE_URL`` into a Django ``DATABASES`` entry (SQLite or PostgreSQL only).

``sqlite:///path/to/db.sqlite3`` or ``postgres://user:password@host:port/name``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

#: Empty on purpose: the toolkit gives every SQLite connection WAL, synchronous=FULL,
#: IMMEDIATE transactions and a 20 s busy timeout (toolkit/sqlite.py). A pragma set here in
#: "init_command" would override it, and `manage.py check` would explain what that costs.
SQLITE_OPTIONS: dict[str, Any] = {}


def parse_database_url(url: str, *, base_dir: Path) -> dict[str, Any]:
    """Return the ``DATABASES['default']`` dict for ``url``; ValueError names bad schemes."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/to/base_dir, sqlite:////absolute/path, sqlite:///:memory:
        path = unquote(parsed.path)[1:]
        if path in {"", ":memory:"}:
            name = ":memory:"
        elif path.startswith("/"):
            name = path
        else:
            name = str(base_dir / path)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 0,
        }
    raise ValueError(
        f"Unsupported DATABASE_URL scheme {parsed.scheme!r}; use 'sqlite' or 'postgres'."
    )
