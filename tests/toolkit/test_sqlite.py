"""SQLite connection defaults (toolkit/sqlite.py) and their system check, on real files."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.test import override_settings

from toolkit.checks import sqlite_messages
from toolkit.conf import SQLITE_DEFAULTS
from toolkit.sqlite import DEFAULT_BUSY_TIMEOUT, init_command_pragmas, plan

SQLITE = "django.db.backends.sqlite3"


@pytest.fixture(autouse=True)
def _files_allowed(django_db_blocker: Any) -> Iterator[None]:
    """These tests open their own SQLite files, not the test database."""
    with django_db_blocker.unblock():
        yield


def _open(path: Path, **options: Any) -> Iterator[DatabaseWrapper]:
    settings_dict = {
        **connections["default"].settings_dict,
        "ENGINE": SQLITE,
        "NAME": str(path),
        "OPTIONS": options,
        "TEST": {},
    }
    wrapper = DatabaseWrapper(settings_dict, alias="sqlite_probe")
    wrapper.ensure_connection()
    try:
        yield wrapper
    finally:
        wrapper.close()


def _pragma(wrapper: DatabaseWrapper, name: str) -> Any:
    return wrapper.connection.execute(f"PRAGMA {name}").fetchone()[0]


def test_a_new_file_connection_gets_wal_full_immediate_and_a_busy_timeout(
    tmp_path: Path,
) -> None:
    for wrapper in _open(tmp_path / "db.sqlite3"):
        assert _pragma(wrapper, "journal_mode") == "wal"
        assert _pragma(wrapper, "synchronous") == 2  # FULL
        assert _pragma(wrapper, "busy_timeout") == int(DEFAULT_BUSY_TIMEOUT * 1000)
        assert wrapper.transaction_mode == "IMMEDIATE"


def test_the_toolkit_setting_opts_out_of_full_and_wal(tmp_path: Path) -> None:
    sqlite = {"synchronous": "normal", "journal_mode": "TRUNCATE"}
    with override_settings(TOOLKIT={"sqlite": sqlite}):
        for wrapper in _open(tmp_path / "db.sqlite3"):
            assert _pragma(wrapper, "journal_mode") == "truncate"
            assert _pragma(wrapper, "synchronous") == 1  # NORMAL


def test_none_leaves_sqlite_defaults(tmp_path: Path) -> None:
    sqlite = {"synchronous": None, "journal_mode": None}
    with override_settings(TOOLKIT={"sqlite": sqlite}):
        for wrapper in _open(tmp_path / "db.sqlite3"):
            assert _pragma(wrapper, "journal_mode") == "delete"
            assert _pragma(wrapper, "synchronous") == 2  # SQLite's own default


def test_the_projects_init_command_timeout_and_transaction_mode_win(tmp_path: Path) -> None:
    options = {
        "init_command": "PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF",
        "timeout": 3,
        "transaction_mode": "EXCLUSIVE",
    }
    for wrapper in _open(tmp_path / "db.sqlite3", **options):
        assert _pragma(wrapper, "journal_mode") == "delete"
        assert _pragma(wrapper, "synchronous") == 0  # OFF
        assert _pragma(wrapper, "busy_timeout") == 3000
        assert wrapper.transaction_mode == "EXCLUSIVE"


@pytest.mark.django_db
def test_the_test_database_in_memory_gets_immediate_transactions() -> None:
    connection = connections["default"]
    if connection.vendor != "sqlite":
        pytest.skip("the suite runs on PostgreSQL")
    connection.ensure_connection()
    assert connection.transaction_mode == "IMMEDIATE"
    assert _pragma(connection, "busy_timeout") == int(DEFAULT_BUSY_TIMEOUT * 1000)


@pytest.mark.parametrize(
    ("command", "found"),
    [
        (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            {"journal_mode": "WAL", "synchronous": "NORMAL"},
        ),
        ("pragma main.synchronous = 1", {"synchronous": "NORMAL"}),
        (
            "PRAGMA journal_mode='wal'; PRAGMA foreign_keys=ON",
            {"journal_mode": "WAL", "foreign_keys": "ON"},
        ),
        ("", {}),
    ],
    ids=["upper", "schema-and-number", "quoted", "empty"],
)
def test_init_command_pragmas_are_parsed(command: str, found: dict[str, str]) -> None:
    assert init_command_pragmas(command) == found


def test_plan_names_who_chose_each_setting() -> None:
    default = plan({"NAME": "/srv/db.sqlite3"}, SQLITE_DEFAULTS)
    assert (default.journal_mode, default.journal_mode_source) == ("WAL", "toolkit")
    assert (default.synchronous, default.synchronous_source) == ("FULL", "toolkit")
    assert default.pragmas == [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA busy_timeout=20000",
    ]
    memory = plan({"NAME": ":memory:", "OPTIONS": {"timeout": 1}}, SQLITE_DEFAULTS)
    assert memory.in_memory
    assert memory.pragmas == ["PRAGMA synchronous=FULL"]


# -- the system check ----------------------------------------------------------------------


def _file_db(**options: Any) -> dict[str, Any]:
    return {"default": {"ENGINE": SQLITE, "NAME": "/srv/app/db.sqlite3", "OPTIONS": options}}


def test_the_defaults_pass_the_check() -> None:
    assert sqlite_messages(_file_db(), SQLITE_DEFAULTS) == []


def test_in_memory_and_postgres_databases_are_not_checked() -> None:
    databases = {
        "default": {"ENGINE": SQLITE, "NAME": ":memory:"},
        "pg": {"ENGINE": "django.db.backends.postgresql", "NAME": "x"},
    }
    sqlite = {**SQLITE_DEFAULTS, "synchronous": "OFF"}
    assert sqlite_messages(databases, sqlite) == []


def test_synchronous_normal_in_init_command_is_explained() -> None:
    databases = _file_db(init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    [message] = sqlite_messages(databases, SQLITE_DEFAULTS)
    assert message.id == "toolkit.W004"
    assert message.msg == (
        "SQLite database 'default' runs with synchronous=NORMAL (set by "
        "settings.DATABASES['default']['OPTIONS']['init_command']): commits return before they "
        "are on disk, so the last transactions committed before a power loss or an OS crash "
        "can be lost (an application crash loses nothing)."
    )
    assert message.hint == (
        "Remove the override to keep the toolkit's default synchronous=FULL, or add "
        "'toolkit.W004' to SILENCED_SYSTEM_CHECKS if that loss is acceptable."
    )
    assert message.obj == "settings.DATABASES['default']"


def test_synchronous_off_in_the_toolkit_setting_warns_of_corruption() -> None:
    [message] = sqlite_messages(_file_db(), {**SQLITE_DEFAULTS, "synchronous": "OFF"})
    assert message.id == "toolkit.W004"
    assert "(set by settings.TOOLKIT['sqlite'])" in message.msg
    assert "lose committed transactions and corrupt the database file" in message.msg


def test_a_rollback_journal_and_deferred_transactions_are_explained() -> None:
    databases = _file_db(transaction_mode="DEFERRED")
    messages = sqlite_messages(databases, {**SQLITE_DEFAULTS, "journal_mode": "DELETE"})
    assert [m.id for m in messages] == ["toolkit.W005", "toolkit.W006"]
    assert messages[0].msg == (
        "SQLite database 'default' runs with journal_mode=DELETE (set by "
        "settings.TOOLKIT['sqlite']): readers block the writer and every commit rewrites "
        "the journal, several times slower than WAL."
    )
    assert messages[1].msg == (
        "SQLite database 'default' has transaction_mode='DEFERRED': a transaction that reads "
        "and then writes (an append inside atomic()) fails with 'database is locked' when "
        "another process writes, instead of waiting for the lock."
    )


def test_bad_setting_values_list_the_choices() -> None:
    from toolkit.conf import validate

    [problem] = validate({"sqlite": {"synchronous": "fast"}})
    assert (problem.id, problem.msg) == (
        "toolkit.E002",
        "TOOLKIT['sqlite']['synchronous'] is 'fast'; valid choices are: 'EXTRA', "
        "'FULL', 'NORMAL', 'OFF', None.",
    )


# -- concurrent writer processes -----------------------------------------------------------

WRITERS = 4
APPENDS = 25


def _configure(path: str) -> None:
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "toolkit"],
        DATABASES={"default": {"ENGINE": SQLITE, "NAME": path}},
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


def _migrate(path: str) -> None:
    _configure(path)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _writer(path: str, worker: int, barrier: Any, results: Any) -> None:
    """Appends of three kinds: plain, inside atomic() after a read (the case deferred
    transactions turn into "database is locked"), and on a shared stream with retries."""
    _configure(path)
    from django.db import transaction

    from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
    from toolkit.patterns.event_store import EventStore
    from toolkit.patterns.exceptions import ConcurrencyConflict

    store = EventStore(DjangoEventStoreBackend(), validate=False)
    errors: list[str] = []
    retries = 0
    barrier.wait()
    for i in range(APPENDS):
        try:
            store.append(f"own-{worker}", "W", "Plain", {"i": i})
            with transaction.atomic():
                head = store.stream_head(f"mixed-{worker}")
                store.append(f"mixed-{worker}", "W", "AfterRead", {"i": i}, head)
            while True:
                try:
                    store.append(
                        "shared", "W", "Shared", {"w": worker}, store.stream_head("shared")
                    )
                    break
                except ConcurrencyConflict:
                    retries += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    results.put((worker, errors, retries))


@pytest.mark.slow
def test_concurrent_writer_processes_queue_instead_of_failing(tmp_path: Path) -> None:
    path = str(tmp_path / "race.sqlite3")
    ctx = multiprocessing.get_context("spawn")
    migrate = ctx.Process(target=_migrate, args=(path,))
    migrate.start()
    migrate.join(120)
    assert migrate.exitcode == 0
    barrier, results = ctx.Barrier(WRITERS), ctx.Queue()
    writers = [
        ctx.Process(target=_writer, args=(path, w, barrier, results)) for w in range(WRITERS)
    ]
    for p in writers:
        p.start()
    outcomes = [results.get(timeout=240) for _ in writers]
    for p in writers:
        p.join(60)
    assert [errors for _, errors, _ in outcomes] == [[]] * WRITERS
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        per_stream = dict(
            db.execute(
                "SELECT aggregate_id, COUNT(*) FROM toolkit_domainevent GROUP BY aggregate_id"
            ).fetchall()
        )
        gaps = db.execute(
            "SELECT aggregate_id FROM toolkit_domainevent GROUP BY aggregate_id "
            "HAVING MAX(sequence) != COUNT(*) OR MIN(sequence) != 1"
        ).fetchall()
    finally:
        db.close()
    expected = {f"own-{w}": APPENDS for w in range(WRITERS)}
    expected |= {f"mixed-{w}": APPENDS for w in range(WRITERS)}
    expected["shared"] = APPENDS * WRITERS
    assert per_stream == expected
    assert gaps == []
