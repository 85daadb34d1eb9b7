"""Browser flows of the panel's core areas: filter the audit log, undo a command, toggle a
plugin, the home page. Each takes a screenshot (docs/screenshots/ with SAVE_SCREENSHOTS=1)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.conftest import screenshot


@pytest.fixture
def transitions(staff_user: Any) -> None:
    from toolkit.models import StateTransitionAudit

    now = timezone.now()
    steps = [
        ("pay", "new", "paid"),
        ("ship", "paid", "shipped"),
        ("deliver", "shipped", "delivered"),
    ]
    StateTransitionAudit.objects.bulk_create(
        StateTransitionAudit(
            model="shop.order",
            object_id=str(1000 + i),
            machine="OrderMachine",
            transition=steps[i % 3][0],
            from_state=steps[i % 3][1],
            to_state=steps[i % 3][2],
            user=staff_user,
            reason="customer asked" if i % 5 == 0 else "",
            created_at=now - timedelta(minutes=7 * i),
        )
        for i in range(90)
    )


def test_filter_the_audit_log(staff_page: Any, transitions: None) -> None:
    page = staff_page
    page.goto("/panel/audit/")
    assert page.locator("#results tbody tr").count() == 50
    page.fill("#id_transition", "ship")
    page.click("button:has-text('Filter')")
    page.wait_for_url(re.compile(r"transition=ship"))
    page.wait_for_function("document.querySelectorAll('#results tbody tr').length === 30")
    cells = page.locator("#results tbody tr td:nth-child(4)").all_inner_texts()
    assert set(cells) == {"ship"}
    # Sorting by a header keeps the filter (hx-get + pushed URL).
    page.click("#results thead a:has-text('To')")
    page.wait_for_url(re.compile(r"sort=to_state"))
    assert "transition=ship" in page.url
    page.fill("#id_transition", "")
    page.fill("#id_to_state", "delivered")
    page.click("button:has-text('Filter')")
    page.wait_for_url(re.compile(r"to_state=delivered"))
    page.wait_for_function("document.querySelectorAll('#results tbody tr').length === 30")
    # Reload: the bookmarkable URL renders the same filtered page without htmx.
    page.reload()
    assert page.locator("#results tbody tr").count() == 30
    screenshot(page, "audit-filter")
    # The operating system's dark mode (the admin's "auto" theme) darkens the panel too.
    page.emulate_media(color_scheme="dark")
    page.reload()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 18, 18)", background  # the admin's dark --body-bg
    header = page.evaluate(
        "getComputedStyle(document.querySelector('table.panel-table thead th')).backgroundColor"
    )
    assert header != "rgb(248, 248, 248)", header  # not the light --darkened-bg
    screenshot(page, "audit-filter-dark")


def test_undo_a_command(staff_page: Any, staff_user: Any) -> None:
    from tests.patterns_admin.test_commands import AddToCounter
    from toolkit.models import CommandAuditLog

    AddToCounter.counter["value"] = 0
    for amount in (5, 7, 11):
        AddToCounter(amount).execute(user=staff_user)
    target = CommandAuditLog.objects.filter(params__amount=7).get()
    page = staff_page
    page.goto("/panel/commands/")
    row = page.locator(f"#command-{target.pk}")
    row.locator("a:has-text('Undo…')").click()
    # The confirmation opens above the table, at full width (it was clipped in its cell).
    confirm = page.locator("#undo-panel .panel-confirm")
    confirm.wait_for()
    assert f"Yes, undo #{target.pk}" in confirm.inner_text()
    confirm.locator("button").click()
    page.wait_for_selector(".messagelist li.success")
    assert f"Undid #{target.pk}" in page.locator(".messagelist").inner_text()
    # The list refreshed itself (auditChanged): the undo row links to the original.
    page.wait_for_selector(f"#results a:has-text('#{target.pk}') >> nth=1")
    assert AddToCounter.counter["value"] == 16
    undo = CommandAuditLog.objects.get(undo_of=target)
    assert undo.user_id == staff_user.pk
    assert page.locator(f"#command-{target.pk} .badge-undone").count() == 1
    assert page.locator(f"#command-{target.pk} a:has-text('Undo…')").count() == 0
    screenshot(page, "undo-command")


def test_toggle_a_plugin(staff_page: Any, staff_user: Any) -> None:
    """Through the process's real registry: the demo's plugins from entry points."""
    from patterns_admin.models import PanelActionLog
    from toolkit.models import PluginState
    from toolkit.patterns.plugin import get_plugin_registry

    names = [meta.name for meta in get_plugin_registry().list_plugins()]
    assert "loyalty_points" in names, names
    page = staff_page
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/panel/plugins/")
    row = page.locator("#plugin-loyalty_points")
    assert row.locator(".badge").inner_text() == "active"
    row.locator("button:has-text('Disable')").click()
    page.wait_for_selector("#plugin-loyalty_points .badge-disabled")
    assert "is now disabled" in page.locator("#panel-messages").inner_text()
    assert PluginState.objects.get(name="loyalty_points").enabled is False
    assert not get_plugin_registry().is_enabled("loyalty_points")
    log = PanelActionLog.objects.get()
    assert (log.user_id, log.action, log.success) == (staff_user.pk, "toggle_plugin", True)
    screenshot(page, "toggle-plugin")
    page.locator("#plugin-loyalty_points button:has-text('Enable')").click()
    page.wait_for_selector("#plugin-loyalty_points .badge-active")
    assert get_plugin_registry().is_enabled("loyalty_points")


def test_home_shows_counts_activity_and_every_area(
    staff_page: Any, staff_user: Any, transitions: None
) -> None:
    from patterns_admin.audit import record_action
    from tests.patterns_admin.test_commands import AddToCounter

    AddToCounter(3).execute(user=staff_user)
    record_action(user=staff_user, action="toggle_plugin", target="plugin:loyalty_points")
    page = staff_page
    page.goto("/panel/")
    cards = page.locator(".panel-card")
    hrefs = cards.locator("a").evaluate_all("links => links.map(a => a.pathname)")
    for area in ("/audit/", "/commands/", "/streams/", "/projections/", "/diagrams/", "/plugins/"):
        assert any(href.startswith("/panel" + area) for href in hrefs), (area, hrefs)
    assert page.locator(".panel-activity li").count() >= 3
    # Every card leads somewhere that answers.
    for href in hrefs:
        assert page.request.get(href).status == 200, href
    screenshot(page, "home")
