"""The management commands' argument types: a bad interval, batch size or restart count is a
usage error naming the option, before the command runs (a negative interval polled in a busy
loop, a zero batch size was refused only after the broker settings were checked)."""

from __future__ import annotations

import argparse

import pytest
from django.core.management import CommandError, call_command

from toolkit.management.arguments import non_negative_int, positive_int, seconds


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "-inf", "86401", "soon", ""])
def test_an_interval_is_a_finite_number_of_seconds_above_0_up_to_a_day(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        seconds(value)


def test_good_values_pass_through() -> None:
    assert (seconds("0.05"), seconds("86400"), seconds(" 2 ")) == (0.05, 86400.0, 2.0)
    assert (positive_int("1"), non_negative_int("0")) == (1, 0)
    for parse, value in ((positive_int, "0"), (non_negative_int, "-1"), (positive_int, "1.5")):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(value)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run_projections", "--once", "--interval", "-5"], "argument --interval: '-5' must be"),
        (["run_projections", "--max-restarts", "-1"], "argument --max-restarts: '-1' must be"),
        (["relay_outbox", "--once", "--batch-size", "0"], "argument --batch-size: '0' must be"),
        (["relay_outbox", "--once", "--interval", "nan"], "argument --interval: 'nan' must be"),
    ],
)
def test_the_commands_refuse_them_before_running(argv: list[str], message: str) -> None:
    with pytest.raises(CommandError) as info:
        call_command(*argv)
    assert message in str(info.value)
