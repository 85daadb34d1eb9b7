"""SQLite connection defaults: WAL, ``synchronous=FULL``, writers that queue (Django adapter).

Django opens SQLite files in the rollback-journal mode (``DELETE``) with deferred transactions.
That is five times slower for one-event-per-commit appends than WAL, lets a reader block a
writer, and makes a transaction that reads and then writes fail with "database is locked"
instead of waiting. On every new SQLite connection the toolkit therefore sets, unless the
project chose otherwise:

- ``PRAGMA journal_mode=WAL`` (``TOOLKIT["sqlite"]["journal_mode"]``): readers and
  the one writer no longer block each other; commits append to the ``-wal`` file.
- ``PRAGMA synchronous=FULL`` (``TOOLKIT["sqlite"]["synchronous"]``): every commit is
  on disk before it returns. ``NORMAL`` skips that fsync in WAL mode: faster, still consistent
  after any crash, but the last transactions committed before a power loss or an OS crash can
  be gone (an application crash loses nothing). System check ``toolkit.W004`` says so when a
  project opts out.
- ``BEGIN IMMEDIATE`` for Django's ``atomic()`` (``OPTIONS["transaction_mode"]``): the write
  lock is taken at ``BEGIN``, so concurrent writers wait their turn instead of failing when a
  read transaction tries to become a write transaction.
- a busy timeout of :data:`DEFAULT_BUSY_TIMEOUT` seconds (``OPTIONS["timeout"]``): how long a
  writer waits for the lock before "database is locked" (Python's default is 5 s).

A pragma the project sets in ``OPTIONS["init_command"]``, and an explicit
``transaction_mode`` or ``timeout``, always win; ``None`` in the ``TOOLKIT`` setting leaves the
pragma as SQLite has it. In-memory databases have no journal file: only the transaction mode
and the timeout apply there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.backends.signals import connection_created
from django.dispatch import receiver

from toolkit.conf import toolkit_settings

#: Seconds a writer waits for the lock when ``OPTIONS["timeout"]`` is not set.
DEFAULT_BUSY_TIMEOUT = 20.0

_PRAGMA = re.compile(r"^\s*pragma\s+(?:\w+\.)?(\w+)\s*=\s*['\"]?(\w+)['\"]?\s*$", re.IGNORECASE)
# SQLite's numeric synchronous levels, as PRAGMA synchronous returns them.
_SYNCHRONOUS_NAMES = {"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}


@dataclass(frozen=True)
class SqlitePlan:
    """What the toolkit sets on a new connection of one database, and what the project chose.

    ``journal_mode`` / ``synchronous`` are the values the connection ends up with (None: left
    as SQLite has it); ``*_source`` says who chose them: ``"toolkit"`` (our default),
    ``"TOOLKIT"`` (the project's ``TOOLKIT`` setting) or ``"init_command"``.
    """

    journal_mode: str | None
    journal_mode_source: str
    synchronous: str | None
    synchronous_source: str
    transaction_mode: str | None
    busy_timeout: float | None
    in_memory: bool

    @property
    def pragmas(self) -> list[str]:
        """The statements the toolkit runs itself (the project's own are not repeated)."""
        statements = []
        if (
            self.journal_mode is not None
            and self.journal_mode_source != "init_command"
            and not self.in_memory
        ):
            statements.append(f"PRAGMA journal_mode={self.journal_mode}")
        if self.synchronous is not None and self.synchronous_source != "init_command":
            statements.append(f"PRAGMA synchronous={self.synchronous}")
        if self.busy_timeout is not None:
            statements.append(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        return statements


def init_command_pragmas(init_command: str) -> dict[str, str]:
    """``{"journal_mode": "WAL", ...}`` from ``OPTIONS["init_command"]`` (names lower-case,
    values upper-case; numeric synchronous levels named)."""
    found: dict[str, str] = {}
    for statement in init_command.split(";"):
        match = _PRAGMA.match(statement)
        if match:
            name, value = match.group(1).lower(), match.group(2).upper()
            if name == "synchronous":
                value = _SYNCHRONOUS_NAMES.get(value, value)
            found[name] = value
    return found


def is_in_memory(settings_dict: Mapping[str, Any]) -> bool:
    """Whether the database of ``settings_dict`` lives in memory (no journal file)."""
    name = str(settings_dict.get("NAME") or "")
    test_name = str((settings_dict.get("TEST") or {}).get("NAME") or "")
    return name in {"", ":memory:"} or "mode=memory" in name or test_name == ":memory:"


def plan(settings_dict: Mapping[str, Any], sqlite: Mapping[str, Any]) -> SqlitePlan:
    """The connection settings for one ``DATABASES`` entry under the ``TOOLKIT["sqlite"]``
    section ``sqlite`` (pure: reads no settings, opens no connection)."""
    options = settings_dict.get("OPTIONS") or {}
    chosen = init_command_pragmas(str(options.get("init_command") or ""))

    def pick(pragma: str, key: str, default: str) -> tuple[str | None, str]:
        if pragma in chosen:
            return chosen[pragma], "init_command"
        value = sqlite.get(key, default)
        source = "toolkit" if value == default else "TOOLKIT"
        return (value.upper() if isinstance(value, str) else None), source

    journal_mode, journal_source = pick("journal_mode", "journal_mode", "WAL")
    synchronous, synchronous_source = pick("synchronous", "synchronous", "FULL")
    transaction_mode = options.get("transaction_mode", "IMMEDIATE")
    return SqlitePlan(
        journal_mode=journal_mode,
        journal_mode_source=journal_source,
        synchronous=synchronous,
        synchronous_source=synchronous_source,
        transaction_mode=transaction_mode.upper() if transaction_mode else None,
        busy_timeout=None if "timeout" in options else DEFAULT_BUSY_TIMEOUT,
        in_memory=is_in_memory(settings_dict),
    )


@receiver(connection_created, dispatch_uid="toolkit.sqlite.configure_connection")
def configure_connection(*, connection: Any, **kwargs: Any) -> None:
    """Apply :func:`plan` to a new SQLite connection (other vendors are left alone)."""
    if connection.vendor != "sqlite":
        return
    wanted = plan(connection.settings_dict, toolkit_settings.section("sqlite"))
    raw = connection.connection
    for statement in wanted.pragmas:
        raw.execute(statement).fetchall()
    # Django read OPTIONS["transaction_mode"] (None when absent) just before this signal; an
    # explicit choice is kept, the default becomes IMMEDIATE for this connection.
    connection.transaction_mode = wanted.transaction_mode
