"""Playwright (sync API) against ``live_server``, with Debian's chromium, never a download.

Fixtures:

- ``browser``: one headless chromium per test module (``/usr/bin/chromium``).
- ``staff_user``: an active staff user holding every ``patterns_admin`` permission.
- ``staff_page``: a page whose context carries that user's session cookie, with
  ``base_url`` set to the live server, so ``staff_page.goto("/panel/")`` works.
- ``screenshot(page, flow)``: saves ``<flow>.png`` and returns the path: in
  ``docs/screenshots/`` when ``SAVE_SCREENSHOTS=1`` (to refresh the docs), else in a
  temporary directory, so that a test run leaves the working tree clean.

The sync Playwright API runs an event loop in the test's thread while it is open, and Django
refuses ORM calls from a thread with a running loop; ``DJANGO_ALLOW_ASYNC_UNSAFE`` lifts that
while a browser is open (the live server itself runs in its own thread). The browser is
module-scoped and closed, with the variable restored, at the end of each browser module: a
loop left running for the rest of the session would break every later ``async_to_sync``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1360, "height": 900}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser/ is a browser test (``-m "not browser"`` skips them)."""
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Debian chromium driven by Playwright; fails in CI if it is missing."""
    from tests import services

    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"chromium not found at {CHROMIUM} (make browser-deps)"
        if services.in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield instance
            finally:
                instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def staff_user(transactional_db: None) -> Any:
    """An active staff user (not a superuser) with every panel permission."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user(
        "operator", "operator@example.com", "pw", is_staff=True, first_name="Olga"
    )
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="patterns_admin"))
    return user


def login_cookie(user: Any) -> dict[str, str]:
    """The session cookie of ``user``, logged in through Django's test client."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
    }


@pytest.fixture
def staff_page(browser: Any, live_server: Any, staff_user: Any) -> Iterator[Any]:
    """A Playwright page logged in as ``staff_user`` on the live server."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    context.add_cookies([{**login_cookie(staff_user), "url": live_server.url}])
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def screenshots_dir() -> Path:
    """``docs/screenshots/`` when ``SAVE_SCREENSHOTS=1``, else a temporary directory."""
    if os.environ.get("SAVE_SCREENSHOTS") == "1":
        return DOCS_SCREENSHOTS
    return Path(tempfile.gettempdir()) / "patterns-screenshots"


def screenshot(page: Any, flow: str) -> Path:
    """Save a full-page screenshot as ``<flow>.png`` in :func:`screenshots_dir`."""
    directory = screenshots_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{flow}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
