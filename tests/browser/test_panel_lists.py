"""Issue 14 item 5 in Chromium: one list (the event streams) searched, narrowed by a facet and
by the date hierarchy, and a new row appearing live. Screenshot: docs/screenshots/list-aids.png
(with SAVE_SCREENSHOTS=1), shown in docs/panel.md."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlparse

import pytest
from django.utils import timezone

from tests.browser.conftest import screenshot


@pytest.fixture
def streams(staff_user: Any) -> dict[str, datetime]:
    """Four carts and two ledgers in the Django event store; two carts last written long ago
    (one earlier this year or last year, one last year). Returns each stream's last write."""
    from toolkit.models import EventStream
    from toolkit.patterns.event_store import EventStore

    store = EventStore()
    for aggregate_id in ("cart-1", "cart-2", "cart-3", "cart-4", "ledger-1", "ledger-2"):
        kind = "Cart" if aggregate_id.startswith("cart") else "Ledger"
        store.append(aggregate_id, kind, "Opened", {"owner": aggregate_id})
    now = timezone.now()
    older = {"cart-1": now - timedelta(days=40), "cart-2": now - timedelta(days=400)}
    for aggregate_id, moment in older.items():
        EventStream.objects.filter(aggregate_id=aggregate_id).update(updated_at=moment)
    return {
        stream.aggregate_id: stream.updated_at
        for stream in EventStream.objects.filter(aggregate_id__startswith="cart")
    }


def _rows(page: Any) -> list[str]:
    return page.locator("#results tbody td a").all_inner_texts()


def test_search_facet_and_date_hierarchy_then_a_new_row_appears_live(
    staff_page: Any, streams: dict[str, datetime]
) -> None:
    from toolkit.patterns.event_store import EventStore

    page = staff_page
    now = timezone.localtime()
    # Poll every second rather than every ten (the view reads the interval per request).
    with mock.patch("patterns_admin.views.streams.LIVE_INTERVAL", 1):
        page.goto("/panel/streams/")
        page.wait_for_selector("#results[data-live]")
        assert page.locator(".panel-result-count").inner_text() == "6 rows"

        # Search: the id prefix, through the filter form (htmx swaps #results).
        page.fill("input[name=aggregate_id]", "cart-")
        page.press("input[name=aggregate_id]", "Enter")
        page.wait_for_selector(".panel-result-count:has-text('4 rows')")
        facet = page.locator(".panel-facet[data-facet=aggregate_type]")
        assert facet.locator("a[data-value=Ledger] .panel-facet-count").inner_text() == "0"

        # Facet: the type, with its count over the search; the form follows the link.
        facet.locator("a[data-value=Cart]").click()
        page.wait_for_url(re.compile(r"aggregate_type=Cart"))
        page.wait_for_selector(".panel-facet strong[data-value=Cart]")
        assert page.locator("select[name=aggregate_type]").input_value() == "Cart"
        assert page.locator("input[name=aggregate_id]").input_value() == "cart-"

        # Date hierarchy: this year, then this month.
        this_year = sorted(i for i, t in streams.items() if t.year == now.year)
        this_month = sorted(
            i for i, t in streams.items() if (t.year, t.month) == (now.year, now.month)
        )
        page.click(f".panel-date-hierarchy a[data-period='{now:%Y}']")
        page.wait_for_selector(f".panel-result-count:has-text('{len(this_year)} row')")
        assert sorted(_rows(page)) == this_year
        page.click(f".panel-date-hierarchy a[data-period='{now:%Y-%m}']")
        page.wait_for_selector(f".panel-result-count:has-text('{len(this_month)} rows')")
        assert sorted(_rows(page)) == this_month == ["cart-3", "cart-4"]
        assert page.locator("input[name=date]").input_value() == f"{now:%Y-%m}"
        crumbs = page.locator(".panel-date-hierarchy").inner_text()
        assert "‹ All dates" in crumbs and f"‹ {now:%Y}" in crumbs

        # The URL is the canonical one of what is shown: each key once, no position.
        query = parse_qsl(urlparse(page.url).query)
        assert query == [
            ("aggregate_id", "cart-"),
            ("aggregate_type", "Cart"),
            ("date", f"{now:%Y-%m}"),
        ]

        # Live: a new cart appears in the filtered newest page without a reload.
        EventStore().append("cart-new", "Cart", "Opened", {"owner": "live"})
        page.wait_for_selector("#results tbody a:has-text('cart-new')", timeout=10_000)
        assert page.locator(".panel-result-count").inner_text() == "3 rows"
        assert _rows(page)[0] == "cart-new"
        # The form's select follows the refreshed facet counts.
        option = page.locator("select[name=aggregate_type] option[value=Cart]")
        assert option.inner_text() == "Cart (3)"
        # A new ledger does not match the facet: it stays out.
        EventStore().append("ledger-new", "Ledger", "Opened", {"owner": "live"})
        page.wait_for_timeout(1_500)
        assert "ledger-new" not in _rows(page)
        screenshot(page, "list-aids")
