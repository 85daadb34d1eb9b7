"""Argument types of the toolkit's management commands: a bad value is argparse's usage error
(exit code 2, naming the option), before the command touches anything."""

from __future__ import annotations

import argparse
import math

#: Longest wait accepted for a polling interval (a day): a larger one is a typo, not a wish.
MAX_SECONDS = 86_400.0


def seconds(value: str) -> float:
    """A polling interval: a finite number of seconds above 0 and at most a day (0 or less
    would poll in a busy loop, ``nan`` and ``inf`` never wake)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not (math.isfinite(number) and 0 < number <= MAX_SECONDS):
        raise argparse.ArgumentTypeError(
            f"{value!r} must be a number of seconds above 0 and at most {MAX_SECONDS:.0f}"
        )
    return number


def _whole(value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < minimum:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least {minimum}")
    return number


def positive_int(value: str) -> int:
    """A count of at least 1 (a batch size)."""
    return _whole(value, 1)


def non_negative_int(value: str) -> int:
    """A count of at least 0 (restarts allowed)."""
    return _whole(value, 0)
