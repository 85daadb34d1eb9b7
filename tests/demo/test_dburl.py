from __future__ import annotations

from pathlib import Path

import pytest

from demo.dburl import SQLITE_OPTIONS, parse_database_url

BASE = Path("/srv/app")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("sqlite:///db.sqlite3", "/srv/app/db.sqlite3"),
        ("sqlite:///data/db.sqlite3", "/srv/app/data/db.sqlite3"),
        ("sqlite:////var/lib/app/db.sqlite3", "/var/lib/app/db.sqlite3"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite://", ":memory:"),
    ],
    ids=["relative", "relative-dir", "absolute", "memory", "empty"],
)
def test_sqlite_urls_resolve_relative_to_base_dir(url: str, name: str) -> None:
    config = parse_database_url(url, base_dir=BASE)
    assert (config["ENGINE"], config["NAME"]) == ("django.db.backends.sqlite3", name)
    assert config["OPTIONS"] == SQLITE_OPTIONS
    assert config["OPTIONS"] is not SQLITE_OPTIONS


def test_postgres_url_is_split_into_its_parts() -> None:
    config = parse_database_url("postgres://me:p%40ss@db.local:5433/shop", base_dir=BASE)
    assert {k: config[k] for k in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")} == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "me",
        "PASSWORD": "p@ss",
        "HOST": "db.local",
        "PORT": "5433",
    }


def test_unknown_scheme_names_it_and_the_choices() -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_database_url("mysql://root@localhost/db", base_dir=BASE)
    assert excinfo.value.args == (
        "Unsupported DATABASE_URL scheme 'mysql'; use 'sqlite' or 'postgres'.",
    )
