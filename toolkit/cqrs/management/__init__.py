"""Helpers of the CQRS management commands."""

from __future__ import annotations

from django.core.management.base import CommandError


def at_least_one(option: str, value: int) -> int:
    """``value`` of ``--option`` (a batch size, a count of workers or letters), refused with
    the commands' one message when it is below 1: checked before any file or table is touched."""
    if value < 1:
        raise CommandError(f"{option} must be >= 1, not {value!r}")
    return value
