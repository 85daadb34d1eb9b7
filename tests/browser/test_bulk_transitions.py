"""Issue 14, item 6 in Chromium: a bulk transition from the object list (htmx) and from the
per-state counts (JavaScript off): preview, reason, run, per-object report. Screenshots
``bulk-transition-preview.png`` and ``bulk-transition-report.png`` (with SAVE_SCREENSHOTS=1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.conftest import VIEWPORT, login_cookie, screenshot

GUARD = "cannot cancel an order over 1000 without a manager"


@pytest.fixture
def orders(staff_user: Any) -> dict[str, list[Any]]:
    from demo.shop.models import Order
    from toolkit.registry import machines

    def make(customer: str, total: str) -> Any:
        return Order.objects.create(
            customer=customer,
            email=f"{customer.split()[0].lower()}@example.com",
            total=Decimal(total),
            address="1 Road",
        )

    small = [make(name, "40.00") for name in ("Ada Lovelace", "Alan Turing", "Grace Hopper")]
    large = [make(name, "2500.00") for name in ("Edsger Dijkstra", "Barbara Liskov")]
    paid = make("Donald Knuth", "15.00")
    machines.get("OrderMachine").trigger(paid, "pay", user=staff_user)
    return {"small": small, "large": large, "paid": [paid]}


@pytest.fixture
def no_js_page(browser: Any, live_server: Any, staff_user: Any) -> Iterator[Any]:
    """Like ``staff_page``, with JavaScript off: every step is a plain form post."""
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, java_script_enabled=False
    )
    context.add_cookies([{**login_cookie(staff_user), "url": live_server.url}])
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_bulk_cancel_from_the_object_list_with_htmx(
    staff_page: Any, orders: dict[str, list[Any]]
) -> None:
    from demo.shop.models import Order
    from toolkit.models import StateTransitionAudit

    page = staff_page
    page.goto("/panel/objects/shop/order/?state=pending")
    assert page.locator("table.pa-object-list tbody tr").count() == 5
    page.check("input.pa-select-all")  # panel.js ticks every box on the page
    assert page.locator("input[name=ids]:checked").count() == 5
    page.select_option("form.pa-bulk-selected select[name=transition]", "cancel")
    page.click("button:has-text('Preview on the selected')")
    page.wait_for_selector("#bulk-preview #bulk [data-count=ready]")
    assert page.locator("#bulk h2").inner_text() == "Preview: cancel on 5 selected orders"
    assert page.locator("[data-count=ready]").inner_text() == "Will succeed: 3"
    assert page.locator("[data-count=blocked]").inner_text() == "Blocked: 2"
    blocked = page.locator(".pa-bulk-blocked li").inner_text()
    assert GUARD in blocked and "Edsger Dijkstra" in blocked and "Barbara Liskov" in blocked
    assert Order.objects.filter(status="cancelled").count() == 0  # a dry run
    screenshot(page, "bulk-transition-list")
    # The reason is required: the browser refuses the empty form.
    page.click("button:has-text('Trigger cancel on 3')")
    assert page.locator("#bulk-reason:invalid").count() == 1
    page.fill("#bulk-reason", "duplicate orders from the import")
    page.click("button:has-text('Trigger cancel on 3')")
    # Two of the five ticked were blocked at preview: a partial run (amber), as the admin says.
    page.wait_for_selector("#bulk-report .pa-result-partial")
    assert re.search(r"/panel/transitions/bulk/\d+/$", page.url)  # pushed: a permalink
    summary = page.locator("#bulk-report .panel-result").inner_text()
    assert "3 of 3 done, 0 refused, 2 skipped" in summary
    assert page.locator("tr[data-status=ok]").count() == 3
    assert page.locator("tr[data-status=skipped]").count() == 2
    reasons = set(
        StateTransitionAudit.objects.filter(transition="cancel").values_list("reason", flat=True)
    )
    assert reasons == {"duplicate orders from the import"}
    assert Order.objects.filter(status="cancelled").count() == 3
    page.reload()  # the pushed URL opens the same report as a page
    assert page.locator("#bulk-report tr[data-status=ok]").count() == 3


def test_bulk_cancel_from_the_state_counts_without_javascript(
    no_js_page: Any, orders: dict[str, list[Any]]
) -> None:
    from demo.shop.models import Order

    page = no_js_page
    page.goto("/panel/diagrams/OrderMachine/")
    row = page.locator(".pa-state-counts tr[data-state=pending]")
    assert row.locator("td.num a").inner_text() == "5"
    row.locator("select[name=transition]").select_option("cancel")
    row.locator("button:has-text('Preview')").click()
    page.wait_for_url(
        re.compile(r"/panel/objects/shop/order/bulk/\?state=pending&transition=cancel$")
    )
    assert (
        page.locator("h1")
        .inner_text()
        .startswith("Preview: cancel on every order in state pending")
    )
    assert page.locator("[data-count=ready]").inner_text() == "Will succeed: 3"
    assert page.locator(".pa-bulk-blocked li[data-blocked-count='2']").count() == 1
    # Meanwhile someone pays one of the orders: the run reports it instead of cancelling it.
    from toolkit.registry import machines

    raced = Order.objects.get(pk=orders["small"][0].pk)
    machines.get("OrderMachine").trigger(raced, "pay", user=None)
    page.fill("#bulk-reason", "customer request batch 7")
    screenshot(page, "bulk-transition-preview")
    page.click("button:has-text('Trigger cancel on 3')")
    page.wait_for_url(re.compile(r"/panel/transitions/bulk/\d+/$"))
    message = page.locator(".messagelist li").inner_text()
    assert "Cancel: 2 of 3 done, 1 refused, 2 skipped (blocked at preview)" in message
    assert page.locator(".messagelist a:has-text('Per-object report')").count() == 1
    refused = page.locator(f"tr[data-pk='{raced.pk}']").inner_text()
    assert "changed since the preview: was 'pending', now 'paid'; not triggered" in refused
    assert Order.objects.get(pk=raced.pk).status == "paid"
    assert Order.objects.filter(status="cancelled").count() == 2
    screenshot(page, "bulk-transition-report")


def test_search_the_object_list_then_preview_on_the_found_objects(
    staff_page: Any, orders: dict[str, list[Any]]
) -> None:
    """The object list's search box (the admin's search fields) narrows the list within a
    state; ticking every found object previews the transition on them only."""
    page = staff_page
    page.goto("/panel/objects/shop/order/?state=pending")
    page.fill("form.pa-object-search input[name=q]", "turing")
    page.click("form.pa-object-search button:has-text('Search')")
    page.wait_for_url(re.compile(r"\?state=pending&q=turing$"))
    rows = page.locator("table.pa-object-list tbody tr")
    assert rows.count() == 1 and "Alan Turing" in rows.inner_text()
    assert page.locator("h1").inner_text().endswith("matching “turing”")
    screenshot(page, "object-list-search")
    page.check("input.pa-select-all")
    page.select_option("form.pa-bulk-selected select[name=transition]", "pay")
    page.click("button:has-text('Preview on the selected')")
    page.wait_for_selector("#bulk-preview #bulk [data-count=ready]")
    assert page.locator("[data-count=ready]").inner_text() == "Will succeed: 1"
    page.click("a.pa-clear-search")
    page.wait_for_url(re.compile(r"\?state=pending$"))
    assert page.locator("table.pa-object-list tbody tr").count() == 5
