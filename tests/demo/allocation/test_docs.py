"""The ```python block of docs/allocation.md runs as written (reallocation after commit)."""

from __future__ import annotations

import pytest

from demo.allocation import models
from tests.toolkit.ddd.test_docs import run_page


@pytest.mark.django_db(transaction=True)
def test_allocation_page_example_runs() -> None:
    run_page("allocation.md")
    rows = models.AllocationView.objects.values_list("orderid", "sku", "batchref")
    assert list(rows) == [("order-1", "LAMP", "b2")]
