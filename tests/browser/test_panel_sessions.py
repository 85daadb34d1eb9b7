"""Issue 14, defects 1-3 in Chromium, as they were reproduced: filtering after paging, a lost
session during htmx requests, a stale CSRF token after logging in again in another tab, and
polls that stop and say so. Screenshots in docs/screenshots/ with SAVE_SCREENSHOTS=1."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlparse

import pytest
from django.utils import timezone

from tests.browser.conftest import screenshot


@pytest.fixture
def many_transitions(staff_user: Any) -> None:
    from toolkit.models import StateTransitionAudit

    now = timezone.now()
    StateTransitionAudit.objects.bulk_create(
        StateTransitionAudit(
            model="shop.order",
            object_id=str(5000 + i),
            machine="OrderMachine",
            transition="ship" if i % 3 else "pay",
            from_state="paid" if i % 3 else "new",
            to_state="shipped" if i % 3 else "paid",
            created_at=now - timedelta(minutes=i),
        )
        for i in range(150)
    )


@pytest.fixture
def cart(staff_user: Any) -> None:
    from demo.shop.carts import ShoppingCart, cart_repository

    repo = cart_repository()
    cart = ShoppingCart.open("cart-tail", "Grace Hopper")
    cart.add_item("KB-101", 1, "49.90")
    repo.save(cart)


def _query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlparse(url).query, keep_blank_values=True)


def test_filter_after_older_shows_the_newest_matches_and_a_canonical_url(
    staff_page: Any, many_transitions: None
) -> None:
    page = staff_page
    page.goto("/panel/audit/?kind=transitions&per_page=25")
    page.click("#results li.next a")
    page.wait_for_url(re.compile(r"before="))
    page.fill("#id_transition", "pay")
    page.press("#id_transition", "Enter")
    page.wait_for_url(re.compile(r"transition=pay"))
    page.wait_for_selector("#results tbody tr")
    assert _query(page.url) == [("kind", "transitions"), ("per_page", "25"), ("transition", "pay")]
    # The newest pay row (object 5000) is first: the cursor did not ride along.
    assert "5000" in page.locator("#results tbody tr").first.inner_text()
    # Six more filter changes: every key stays once, the URL does not grow.
    for value in ("ship", "pay", "ship", "pay", "ship", "pay"):
        page.fill("#id_transition", value)
        page.press("#id_transition", "Enter")
        page.wait_for_url(re.compile(rf"transition={value}(&|$)"))
    keys = [key for key, _ in _query(page.url)]
    assert sorted(keys) == sorted(set(keys)) and len(page.url) < 120, page.url
    # The bookmarkable URL reproduces the view.
    shown = page.locator("#results tbody tr").first.inner_text()
    page.goto(page.url)
    assert page.locator("#results tbody tr").first.inner_text() == shown
    screenshot(page, "audit-filter-after-paging")


def test_lost_session_sends_the_tab_to_the_login_instead_of_swapping_it_in(
    staff_page: Any, many_transitions: None
) -> None:
    page = staff_page
    page.goto("/panel/audit/?kind=transitions")
    page.context.clear_cookies()  # the session expired / logged out elsewhere
    page.fill("#id_transition", "pay")
    page.press("#id_transition", "Enter")
    page.wait_for_url(re.compile(r"/admin/login/\?next="))
    assert "next=%2Fpanel%2Faudit%2F" in page.url
    assert page.locator(".panel-filters").count() == 0  # the whole tab moved
    screenshot(page, "session-expired-login")


def test_live_tail_follows_a_lost_session_to_the_login(staff_page: Any, cart: None) -> None:
    page = staff_page
    page.goto("/panel/streams/cart-tail/")
    page.wait_for_selector("#tail-control [data-tail=live]")
    page.context.clear_cookies()
    page.wait_for_url(re.compile(r"/admin/login/\?next=%2Fpanel%2Fstreams%2Fcart-tail%2F"))


def test_stale_csrf_token_after_logging_in_again_elsewhere(
    staff_page: Any, staff_user: Any
) -> None:
    from toolkit.patterns.plugin import get_plugin_registry

    page = staff_page
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/panel/plugins/")
    # Log in again in another tab: Django rotates the CSRF token.
    other = page.context.new_page()
    other.goto("/panel/")
    other.click("#logout-form button")
    other.goto("/admin/login/")
    other.fill("#id_username", staff_user.username)
    other.fill("#id_password", "pw")
    other.click("input[type=submit]")
    other.wait_for_url(re.compile(r"/admin/$"))
    other.close()
    page.locator("#plugin-loyalty_points button:has-text('Disable')").click()
    page.wait_for_selector("#panel-messages [data-csrf=refreshed]")
    assert "CSRF verification failed" not in page.content()
    assert page.locator("#plugin-loyalty_points").count() == 1  # the panel stayed in place
    assert get_plugin_registry().is_enabled("loyalty_points")  # nothing changed
    screenshot(page, "csrf-refreshed")
    # Trying again works with the refreshed token.
    page.locator("#plugin-loyalty_points button:has-text('Disable')").click()
    page.wait_for_selector("#plugin-loyalty_points .badge-disabled")
    assert not get_plugin_registry().is_enabled("loyalty_points")
    page.locator("#plugin-loyalty_points button:has-text('Enable')").click()
    page.wait_for_selector("#plugin-loyalty_points .badge-active")


@pytest.mark.parametrize("failure", ["500", "network"])
def test_live_tail_stops_and_says_so_when_the_server_fails(
    staff_page: Any, cart: None, failure: str
) -> None:
    page = staff_page
    page.goto("/panel/streams/cart-tail/")
    page.wait_for_selector("#tail-control [data-tail=live]")

    def fail(route: Any) -> None:
        if failure == "500":
            route.fulfill(status=500, body="boom")
        else:
            route.abort()

    page.route(re.compile(r"tail_after="), fail)
    notice = page.wait_for_selector("#tail-control[data-stopped]", timeout=8_000)
    text = notice.inner_text()
    assert text.startswith("Live updates stopped:") and "Reload the page" in text
    if failure == "500":
        assert "answered 500" in text
        screenshot(page, "live-tail-stopped")
    else:
        assert "cannot be reached" in text


def test_undo_previews_its_changes_and_refuses_after_a_later_transition(
    staff_page: Any, staff_user: Any
) -> None:
    from demo.shop.commands import ApplyDiscountCommand, CreateOrderCommand
    from demo.shop.machines import OrderMachine
    from toolkit.models import CommandAuditLog

    order = CreateOrderCommand("Ada", "ada@example.com", "100.00").execute(user=staff_user)
    ApplyDiscountCommand(order.pk, 10).execute(user=staff_user)
    discount = CommandAuditLog.objects.latest("id")
    page = staff_page
    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto("/panel/commands/")
    page.locator(f"#command-{discount.pk} a:has-text('Undo…')").click()
    confirm = page.locator("#undo-panel .panel-confirm[data-preview=ok]")
    confirm.wait_for()
    assert "discount_percent" in confirm.inner_text()
    # Not clipped: the whole confirmation lies inside the viewport's width.
    box = confirm.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1100
    screenshot(page, "undo-preview")
    # Someone pays the order meanwhile: the confirmation now refuses, with the reason.
    OrderMachine().trigger(order, "pay")
    page.locator(f"#command-{discount.pk} a:has-text('Undo…')").click()
    page.wait_for_selector("#undo-panel .panel-confirm[data-preview=conflict]")
    text = page.locator("#undo-panel").inner_text()
    assert "changed since the command ran" in text and "transition 'pay'" in text
    screenshot(page, "undo-conflict")
    # The operator holds force_undo: "anyway" is offered and works.
    page.locator("#undo-panel button:has-text('anyway')").click()
    page.wait_for_selector(".messagelist li.success")
    assert CommandAuditLog.objects.filter(kind="undo", undo_of=discount).exists()


@pytest.mark.parametrize("path", ["/panel/", "/panel/audit/", "/panel/commands/"])
def test_nothing_overflows_a_390px_phone(staff_page: Any, path: str) -> None:
    page = staff_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path)
    overflow = page.evaluate(
        "() => [document.documentElement.scrollWidth, "
        "document.querySelector('.panel-nav').scrollWidth, "
        "document.querySelector('#header').scrollWidth]"
    )
    assert max(overflow) <= 390, overflow
    if path == "/panel/":
        screenshot(page, "home-390px")


def test_without_javascript_plugin_toggle_asks_first(
    browser: Any, live_server: Any, staff_user: Any
) -> None:
    from tests.browser.conftest import VIEWPORT, login_cookie
    from toolkit.patterns.plugin import get_plugin_registry

    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, java_script_enabled=False
    )
    context.add_cookies([{**login_cookie(staff_user), "url": live_server.url}])
    try:
        page = context.new_page()
        page.goto("/panel/plugins/")
        page.locator("#plugin-loyalty_points button:has-text('Disable')").click()
        page.wait_for_selector("[data-confirm=no-js]")
        assert get_plugin_registry().is_enabled("loyalty_points")  # nothing yet
        screenshot(page, "no-js-confirm")
        page.click("button:has-text('Yes, disable loyalty_points')")
        page.wait_for_url(re.compile(r"/panel/plugins/$"))
        assert not get_plugin_registry().is_enabled("loyalty_points")
        page.locator("#plugin-loyalty_points button:has-text('Enable')").click()
        page.click("button:has-text('Yes, enable loyalty_points')")
        page.wait_for_url(re.compile(r"/panel/plugins/$"))
        assert get_plugin_registry().is_enabled("loyalty_points")
    finally:
        context.close()


def test_the_replay_maximum_follows_the_live_tail_and_pause_is_in_the_url(
    staff_page: Any, cart: None
) -> None:
    from demo.shop.carts import cart_repository

    page = staff_page
    page.goto("/panel/streams/cart-tail/")
    assert page.locator("#replay-at").get_attribute("max") == "2"
    repo = cart_repository()
    cart = repo.get("cart-tail")
    cart.add_item("MS-220", 1, "19.99")
    repo.save(cart)
    page.wait_for_selector("#tail-events [data-sequence='3']", timeout=8_000)
    page.wait_for_function("document.getElementById('replay-at').max === '3'")
    assert page.locator("#replay-last").inner_text() == "of 3"
    page.click("#tail-control a:has-text('Pause')")
    page.wait_for_url(re.compile(r"tail=paused"))
    page.reload()
    page.wait_for_selector("#tail-control [data-tail=paused]")


def test_investigate_an_order_from_a_command_to_its_history(
    staff_page: Any, staff_user: Any
) -> None:
    from demo.shop.commands import ApplyDiscountCommand, CreateOrderCommand
    from demo.shop.machines import OrderMachine
    from toolkit.models import CommandAuditLog

    order = CreateOrderCommand("Ada", "ada@example.com", "100.00").execute(user=staff_user)
    ApplyDiscountCommand(order.pk, 10).execute(user=staff_user)
    OrderMachine().trigger(order, "pay", user=staff_user, reason="card ok")
    create = CommandAuditLog.objects.earliest("id")
    page = staff_page
    page.goto("/panel/commands/")
    page.click(f"#command-{create.pk} a:has-text('#{create.pk}')")
    page.wait_for_url(re.compile(rf"/panel/commands/{create.pk}/$"))
    assert "CreateOrderCommand" in page.locator("dl").inner_text()
    screenshot(page, "command-detail")
    page.click(f"a:has-text('shop.order#{order.pk}')")
    page.wait_for_url(re.compile(r"/history/$"))
    kinds = page.locator(".pa-history li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds == ["transition", "execute", "execute"]
    screenshot(page, "object-history")
    page.click(".pa-history li >> nth=0 >> a:has-text('operator')")
    page.wait_for_url(re.compile(r"/panel/users/operator/activity/$"))
    assert page.locator(".pa-history li").count() == 3


def test_event_permalink_and_compare_two_sequences(staff_page: Any, cart: None) -> None:
    from demo.shop.carts import cart_repository

    repo = cart_repository()
    cart = repo.get("cart-tail")
    cart.add_item("MS-220", 2, "19.99")
    cart.add_item("KB-101", 1, "49.90")
    repo.save(cart)
    page = staff_page
    page.goto("/panel/streams/cart-tail/")
    page.fill("#compare-from", "1")
    page.fill("#compare-to", "4")
    page.click("button:has-text('Compare')")
    page.wait_for_selector("#replay h3:has-text('From sequence 1 to 4')")
    assert "from=1" in page.url and "to=4" in page.url
    assert page.locator("#replay tr[data-path='items.MS-220']").count() == 1
    screenshot(page, "stream-compare")
    page.click("#events a.pa-seq:has-text('#3')")
    page.wait_for_url(re.compile(r"/panel/streams/cart-tail/events/3/$"))
    assert page.locator("tr[data-path='items.MS-220']").count() == 1
    screenshot(page, "event-permalink")


def test_new_rows_appear_in_the_audit_log_without_a_reload(staff_page: Any) -> None:
    from toolkit.models import StateTransitionAudit

    page = staff_page
    page.goto("/panel/audit/?kind=transitions")
    page.wait_for_selector("#results[data-live]")
    StateTransitionAudit.objects.create(
        model="shop.order",
        object_id="777",
        machine="OrderMachine",
        transition="pay",
        from_state="pending",
        to_state="paid",
    )
    page.wait_for_selector("#results tbody tr:has-text('777')", timeout=15_000)
    assert page.url.endswith("/panel/audit/?kind=transitions")  # the poll pushes nothing
