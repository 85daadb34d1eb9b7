"""Browser flow of issue 14's all-events feed: open the feed, filter it by a correlation id,
open that request's tree of commands and events (screenshots in docs/screenshots/ with
SAVE_SCREENSHOTS=1)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import screenshot

CORRELATION = "req-checkout-42"


@pytest.fixture
def request_with_a_command(staff_user: Any) -> None:
    """Some carts, then one request: a cart filled, checked out by a command, and the ledger
    entry its checkout caused (causation id), all under one correlation id."""
    from demo.shop.carts import ShoppingCart, cart_repository
    from tests.patterns_admin.test_feed import CheckOutCart
    from toolkit.eventsourcing import event_context
    from toolkit.patterns.event_store import EventStore

    repo = cart_repository()
    for index in range(3):
        other = ShoppingCart.open(f"cart-0010{index}", f"Customer {index}")
        other.add_item("MS-220", 1, "19.99")
        repo.save(other)
    with event_context(correlation_id=CORRELATION, user=staff_user):
        cart = ShoppingCart.open("cart-00042", "Grace Hopper")
        cart.add_item("KB-101", 1, "49.90")
        cart.add_item("HD-512", 1, "89.00")
        repo.save(cart)
        CheckOutCart("cart-00042").execute(user=staff_user)
        checked_out = EventStore().load("cart-00042")[-1]
        EventStore().append(
            "ledger-2026-12",
            "Ledger",
            "Ledger.Charged",
            {"cart": "cart-00042", "amount": "138.90"},
            causation_id=str(checked_out.event_id),
        )


def test_feed_filter_by_correlation_then_tree(
    staff_page: Any, request_with_a_command: None
) -> None:
    page = staff_page
    page.goto("/panel/")
    page.click(".panel-nav a:has-text('Event feed')")
    page.wait_for_url(re.compile(r"/panel/events/$"))
    assert page.locator("#results tbody tr").count() == 11  # 3 carts × 2 + 4 + 1
    page.fill("#id_correlation_id", CORRELATION)
    page.press("#id_correlation_id", "Enter")
    page.wait_for_url(re.compile(rf"/panel/events/\?correlation_id={CORRELATION}$"))
    page.wait_for_selector("[data-role=correlation-tree]")
    assert page.locator("#results tbody tr").count() == 5
    types = page.locator("#results tbody tr td:nth-child(2)").all_inner_texts()
    assert types[0] == "Ledger.Charged" and types[-1] == "ShoppingCart.Opened"
    screenshot(page, "event-feed")
    page.click("[data-role=correlation-tree]")
    page.wait_for_url(re.compile(rf"/panel/correlations/{CORRELATION}/$"))
    tree = page.locator("[data-role=tree]")
    # Roots: the three events before the command, then the command.
    roots = tree.locator(":scope > li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert roots == ["event", "event", "event", "command"]
    command = tree.locator(":scope > li[data-kind=command]")
    checked = command.locator(":scope > ul > li[data-kind=event]")
    assert checked.locator(":scope > details summary").inner_text().count("CheckedOut") == 1
    charged = checked.locator(":scope > ul > li[data-kind=event]")
    assert "Ledger.Charged" in charged.locator("summary").inner_text()
    charged.locator("summary").click()
    assert '"138.90"' in charged.locator("[data-role=payload]").inner_text()
    command.locator(":scope > details > summary").click()
    assert "cart-00042" in command.locator(":scope > details [data-role=params]").inner_text()
    screenshot(page, "correlation-tree")
    # The command's own page links back to the tree.
    command.locator(":scope > details > summary a").first.click()
    page.wait_for_url(re.compile(r"/panel/commands/\d+/$"))
    assert page.locator("a[data-role=correlation]").inner_text() == CORRELATION
