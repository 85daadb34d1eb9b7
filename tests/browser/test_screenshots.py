"""Where the browser tests write their screenshots: the docs only when asked."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.browser.conftest import DOCS_SCREENSHOTS, screenshots_dir


def test_screenshots_go_to_a_temporary_directory_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SAVE_SCREENSHOTS", raising=False)
    assert screenshots_dir() == Path(tempfile.gettempdir()) / "patterns-screenshots"


def test_save_screenshots_writes_them_to_the_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAVE_SCREENSHOTS", "1")
    assert screenshots_dir() == DOCS_SCREENSHOTS
    assert DOCS_SCREENSHOTS.parts[-2:] == ("docs", "screenshots")
