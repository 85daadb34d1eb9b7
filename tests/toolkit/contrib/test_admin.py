"""SafeChangeListMixin: the change lists of the toolkit's, the panel's and the demo's model
admins answer NUL in the query string with a 400 and an impossible date-hierarchy part with
Django's invalid-lookup redirect, where Django's own change list answers 500 (PostgreSQL's
``DataError`` for NUL, ``OverflowError`` for a huge year)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from demo.shop.models import Order

#: Change lists whose admin has the mixin, with a list-filter parameter of each.
CHANGE_LISTS = [
    ("admin:shop_order_changelist", "status__exact"),
    ("admin:shop_order_changelist", "pricing"),
    ("admin:patterns_admin_panelactionlog_changelist", "action__exact"),
    ("admin:toolkit_cqrs_cqrsdeadletter_changelist", "cqrs_id__exact"),
    ("admin:toolkit_cqrs_cqrsoutbox_changelist", "signal_type__exact"),
    ("admin:toolkit_cqrs_cqrsrevisiongap_changelist", "cqrs_id__exact"),
    ("admin:replication_product_changelist", "q"),
]


@pytest.fixture
def admin_client(db: object) -> Client:
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    Order.objects.create(customer="Ada", email="ada@example.com", total=Decimal("10.00"))
    return client


@pytest.mark.parametrize(("url_name", "parameter"), CHANGE_LISTS)
def test_nul_in_a_change_list_query_is_a_400_that_says_so(
    admin_client: Client, url_name: str, parameter: str
) -> None:
    url = reverse(url_name)
    assert admin_client.get(url).status_code == 200
    for query in ({parameter: "a\x00b"}, {f"x\x00{parameter}": "1"}):
        response = admin_client.get(url, query)
        assert response.status_code == 400, query
        assert "Null characters are not allowed in the query string" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"created_at__year": "9" * 20},
        {"created_at__year": "0"},
        {"created_at__year": "2026", "created_at__month": "13"},
        {"created_at__year": "2026", "created_at__month": "1", "created_at__day": "99"},
        {"created_at__year": "²⁰²⁶"},
    ],
)
def test_an_impossible_date_hierarchy_part_goes_back_with_the_invalid_lookup_flag(
    admin_client: Client, query: dict[str, str]
) -> None:
    url = reverse("admin:shop_order_changelist")
    response = admin_client.get(url, query)
    assert response.status_code == 302
    assert response["Location"] == f"{url}?e=1"


def test_a_real_date_still_drills_down(admin_client: Client) -> None:
    url = reverse("admin:shop_order_changelist")
    response = admin_client.get(url, {"created_at__year": "2026", "created_at__month": "12"})
    assert response.status_code == 200
