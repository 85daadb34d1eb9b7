"""Browser flows of the operator and staff pages: replay a stream, trigger a transition,
open a diagram. Each takes a screenshot (docs/screenshots/ with SAVE_SCREENSHOTS=1)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.browser.conftest import screenshot


@pytest.fixture
def carts(staff_user: Any) -> None:
    from demo.shop.carts import ShoppingCart, cart_repository

    repo = cart_repository()
    cart = ShoppingCart.open("cart-00042", "Grace Hopper")
    for sku, price in (("KB-101", "49.90"), ("MS-220", "19.99"), ("HD-512", "89.00")):
        cart.add_item(sku, 1, price)
        repo.save(cart)
    cart.add_item("KB-101", 2, "49.90")
    cart.remove_item("MS-220")
    repo.save(cart)


def test_open_a_stream_and_replay_to_n(staff_page: Any, carts: None) -> None:
    from demo.shop.carts import cart_repository

    page = staff_page
    page.goto("/panel/streams/")
    screenshot(page, "stream-list")
    page.click("#results a:has-text('cart-00042')")
    page.wait_for_url(re.compile(r"/panel/streams/cart-00042/$"))
    assert page.locator(".pa-events li.pa-event").count() >= 6
    page.fill("#replay-at", "3")
    page.click("button:has-text('Replay')")
    page.wait_for_selector("#replay h3:has-text('At sequence 3: ShoppingCart.ItemAdded (v2)')")
    assert page.url.endswith("/panel/streams/cart-00042/?at=3")  # bookmarkable
    state = page.locator("#replay [data-role=state]").inner_text()
    assert '"MS-220"' in state and '"HD-512"' not in state
    top_level = page.locator("#replay table:not(.pa-nested-diff) tr.pa-changed th")
    assert top_level.filter(has_text="total").count() == 1
    # The nested diff (field by field) names the same field.
    assert page.locator("#replay .pa-nested-diff tr[data-path='total']").count() == 1
    # The live tail picks up an event appended meanwhile, then pauses.
    repo = cart_repository()
    cart = repo.get("cart-00042")
    cart.check_out()
    repo.save(cart)
    page.wait_for_selector("#tail-events [data-sequence='7']", timeout=8_000)
    page.click("#tail-control a:has-text('Pause')")
    page.wait_for_selector("#tail-control [data-tail=paused]")
    assert page.locator("#tail-control").get_attribute("hx-trigger") is None
    page.locator("#tail-events [data-sequence='7'] summary").click()
    screenshot(page, "stream-replay")


def test_trigger_a_transition(staff_page: Any) -> None:
    from demo.shop.models import Order
    from toolkit.models import StateTransitionAudit

    order = Order.objects.create(
        customer="Ada Lovelace", email="ada@example.com", total=Decimal("1250.00"), address=""
    )
    page = staff_page
    page.goto(f"/panel/objects/shop/order/{order.pk}/transitions/")
    assert page.locator(".pa-state-current").first.inner_text() == "pending"
    page.click("summary[data-transition=pay]")
    page.fill("details[open] textarea[name=reason]", "paid by bank transfer")
    page.click("details[open] button:has-text('Confirm pay')")
    page.wait_for_selector(".pa-result-ok:has-text('pay: pending → paid')")
    assert page.locator(".pa-state-current").first.inner_text() == "paid"
    # ship is blocked by its guard, cancel by the manager rule; both say why.
    blocked = page.locator(".pa-blocked").inner_text()
    assert "cannot ship an order without an address" in blocked
    assert "cannot cancel an order over 1000 without a manager" in blocked
    assert page.locator(".pa-history tbody tr").count() == 1
    audit = StateTransitionAudit.objects.get(object_id=str(order.pk))
    assert (audit.transition, audit.reason) == ("pay", "paid by bank transfer")
    order.refresh_from_db()
    assert order.status == "paid"
    screenshot(page, "transition-trigger")


def test_open_a_diagram(staff_page: Any, staff_user: Any) -> None:
    from demo.shop.models import Order
    from toolkit.registry import machines

    machine = machines.get("OrderMachine")
    order = Order.objects.create(
        customer="Alan Turing", email="alan@example.com", total=Decimal("80.00"), address="1 Road"
    )
    staff_user.is_superuser = True
    staff_user.save()
    for name in ("pay", "ship", "deliver"):
        machine.trigger(order, name, user=staff_user)
    Order.objects.create(customer="Bob", email="bob@example.com", total=Decimal("5.00"))
    page = staff_page
    page.goto("/panel/diagrams/")
    assert page.locator("#results svg").count() >= 1
    page.click("#results h2 a:has-text('OrderMachine')")
    page.wait_for_url(re.compile(r"/panel/diagrams/OrderMachine/$"))
    page.fill("#diagram-object", str(order.pk))
    page.click("button:has-text('Show its path')")
    page.wait_for_url(re.compile(rf"object={order.pk}"))
    page.wait_for_selector(".pa-path li:has-text('deliver')")
    assert page.locator(".pa-path li").count() == 3
    assert page.locator("#diagram svg").count() == 1
    assert page.locator("tr.pa-current-row td").first.inner_text() == "delivered"
    with page.expect_download() as download:
        page.click("a:has-text('Download .gv')")
    assert download.value.suggested_filename == f"OrderMachine-{order.pk}.gv"
    page.click("button[data-copy=dot-text]")
    page.wait_for_function(
        "document.querySelector('button[data-copy=dot-text]').textContent != 'Copy'"
    )
    copied = page.locator("button[data-copy=dot-text]").inner_text()
    if copied != "Copied":  # no clipboard permission: the text is selected instead
        assert copied == "Selected: press Ctrl+C"
        assert page.evaluate("window.getSelection().toString()").startswith("digraph")
    screenshot(page, "diagram")
    # The admin's dark theme (its toggle keeps the choice in localStorage).
    page.evaluate("localStorage.setItem('theme', 'dark')")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    screenshot(page, "diagram-dark")


def test_trigger_a_transition_from_the_admin_change_page(staff_page: Any, staff_user: Any) -> None:
    from django.contrib.auth.models import Permission

    from demo.shop.models import Order

    staff_user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="shop", codename__in=["view_order", "change_order"]
        )
    )
    order = Order.objects.create(
        customer="Grace Hopper", email="grace@example.com", total=Decimal("42.00"), address=""
    )
    page = staff_page
    page.goto(f"/admin/shop/order/{order.pk}/change/")
    page.click(".pa-admin-transitions summary[data-transition=pay]")
    page.click(".pa-admin-transitions details[open] button:has-text('Confirm pay')")
    page.wait_for_selector(".pa-admin-transitions .pa-result-ok:has-text('pay: pending → paid')")
    assert "cannot ship an order without an address" in page.locator(".pa-blocked").inner_text()
    order.refresh_from_db()
    assert order.status == "paid"
    # The form's read-only status follows without a reload.
    assert page.locator(".field-status .readonly").inner_text() == "paid"
    # The block sits under the Save row, not behind the form (no empty heading bar there).
    submit_row = page.locator(".submit-row").bounding_box()
    block = page.locator(".pa-admin-transitions").bounding_box()
    assert block["y"] >= submit_row["y"] + submit_row["height"]
    # Fold the admin's sticky sidebar: a full-page capture draws it halfway down the page.
    page.click("#toggle-nav-sidebar")
    screenshot(page, "admin-transitions")


def test_rebuild_a_projection(staff_page: Any, carts: None) -> None:
    from demo.shop.carts import cart_repository
    from demo.shop.models import DailyRevenue

    repo = cart_repository()
    cart = repo.get("cart-00042")
    cart.check_out()
    repo.save(cart)
    page = staff_page
    page.goto("/panel/projections/")
    row = page.locator("tr[data-projection=revenue_per_day]")
    row.locator("a:has-text('Rebuild')").click()
    page.wait_for_selector("form[data-projection=revenue_per_day]")
    assert "replays 1 event from the start" in row.inner_text()
    assert page.url.endswith("/panel/projections/")  # the confirmation opened in place
    row.locator("button:has-text('Rebuild and replay 1 event')").click()
    page.wait_for_selector(".pa-result-ok:has-text('replayed 1 event.')")
    assert DailyRevenue.objects.get().carts == 1
    screenshot(page, "projection-rebuild")
