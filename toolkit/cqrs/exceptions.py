"""Errors raised by ``toolkit.cqrs``, under the toolkit's root ``PatternError``.

::

    PatternError
    └── CqrsError                base of the CQRS errors
        ├── MalformedMessage     a message body that is not a valid TransportPayload
        ├── UnknownCqrsId        no master/replica model registered for a CQRS_ID
        ├── DuplicateCqrsId      two models registered with one CQRS_ID
        └── TransportError       a transport cannot produce or consume
"""

from __future__ import annotations

from collections.abc import Iterable

from toolkit.patterns.exceptions import PatternError


class CqrsError(PatternError):
    """Base of every ``toolkit.cqrs`` error."""


class MalformedMessage(CqrsError):
    """Raised when a message body cannot be turned into a ``TransportPayload``."""


class UnknownCqrsId(CqrsError):
    """Raised when no model of ``role`` ("master" or "replica") has the CQRS_ID."""

    _fields = ("cqrs_id", "role")

    def __init__(self, cqrs_id: str, role: str, available: Iterable[str]) -> None:
        self.cqrs_id = cqrs_id
        self.role = role
        names = ", ".join(repr(n) for n in sorted(available)) or "none"
        super().__init__(f"{cqrs_id!r} is not a {role} CQRS_ID; available: {names}")


class DuplicateCqrsId(CqrsError):
    """Raised when a second model registers a CQRS_ID already taken in the same registry."""

    _fields = ("cqrs_id",)

    def __init__(self, cqrs_id: str, existing: str, new: str) -> None:
        self.cqrs_id = cqrs_id
        super().__init__(f"CQRS_ID {cqrs_id!r} of {new} is already used by {existing}")


class TransportError(CqrsError):
    """Raised when a transport cannot produce or consume (bad configuration, broker down)."""
