"""Browser flow: the CQRS page, replaying a dead letter and resyncing a master model."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.browser.conftest import screenshot


def test_replay_a_dead_letter_and_resync(staff_page: Any) -> None:
    from demo.replication.models import Product, ProductReplica
    from patterns_admin.models import PanelActionLog
    from toolkit.cqrs.consumer import consume_body
    from toolkit.cqrs.models import CqrsDeadLetter
    from toolkit.cqrs.transport.inprocess import InProcessTransport

    InProcessTransport.clean_connection()
    product = Product.objects.create(sku="LAMP", name="Lamp", price=Decimal("9.50"))
    product.name = "Desk lamp"
    product.save()
    expired = {
        "signal_type": "SAVE",
        "cqrs_id": "product",
        "instance_pk": 500,
        "expires": "2000-01-01T00:00:00+00:00",
        "instance_data": {**product.to_cqrs_dict(), "id": 500, "sku": "LATE"},
    }
    consume_body(json.dumps(expired))
    letter = CqrsDeadLetter.objects.get()
    page = staff_page
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/panel/cqrs/")
    master = page.locator("#master-product")
    assert "r1" in master.inner_text()
    assert page.locator("#replica-product .dead-letters").inner_text() == "1"
    screenshot(page, "cqrs-list")

    page.locator(f"#dead-letter-{letter.pk} button:has-text('Replay')").click()
    page.wait_for_selector("text=Replayed dead letters: applied=1.")
    assert page.locator("#replica-product .dead-letters").inner_text() == "0"
    assert ProductReplica.objects.get(pk=500).sku == "LATE"

    ProductReplica.objects.filter(pk=product.pk).delete()
    master.locator("button:has-text('Resync all')").click()
    page.wait_for_selector("text=Queued 1 of 1 'product' instance(s).")
    assert ProductReplica.objects.get(pk=product.pk).title == "Desk lamp"
    assert list(PanelActionLog.objects.order_by("id").values_list("action", flat=True)) == [
        "cqrs_replay",
        "cqrs_resync",
    ]
    screenshot(page, "cqrs-after-actions")
