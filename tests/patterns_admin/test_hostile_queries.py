"""Every GET page of the panel answers hostile query strings with a page or a 4xx, never a 500:
NUL bytes, very long values, numbers no column holds, odd Unicode, SQL-looking text, repeated
keys, for every query parameter a page reads (filters, search, cursors, sort, paging, export)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from demo.shop.models import Order
from toolkit.patterns.event_store import EventStore
from toolkit.registry import machines

#: Query parameters the panel's pages read (forms, filter sets, cursors, tables, exports).
PARAMETERS = (
    "q", "page", "per_page", "sort", "after", "before", "state", "kind", "date", "download",
    "export", "object", "at", "tail", "since", "until", "event_type", "aggregate_type",
    "aggregate_id", "correlation_id", "user", "created_after", "created_before", "model",
    "object_id", "transition", "from_state", "to_state", "command", "success", "action",
    "entry", "status", "health", "ids", "preview", "position", "created_at__gte", "from", "to",
    "tail_after", "timestamp", "blocked", "ready",
)  # fmt: skip

#: Values no page should turn into a 500.
HOSTILE = (
    "\x00", "x" * 5000, "-1", "9" * 40, "1e309", "é 漢字 \U0001f600", "2026-02-30T25:61",
    "' OR 1=1 --",
)  # fmt: skip
#: Bytes that are not UTF-8 (a lone surrogate, a stray byte), sent percent-encoded as is.
RAW = ("%ED%A0%80", "%FF")


def panel_pages(order_pk: int, stream: str, correlation: str) -> list[str]:
    names = [
        ("patterns_admin:index", []),
        ("patterns_admin:audit-list", []),
        ("patterns_admin:command-list", []),
        ("patterns_admin:plugin-list", []),
        ("patterns_admin:stream-list", []),
        ("patterns_admin:event-feed", []),
        ("patterns_admin:correlation", [correlation]),
        ("patterns_admin:stream-detail", [stream]),
        ("patterns_admin:event-detail", [stream, 1]),
        ("patterns_admin:object-list", ["shop", "order"]),
        ("patterns_admin:bulk-transition-preview", ["shop", "order"]),
        ("patterns_admin:object-transitions", ["shop", "order", order_pk]),
        ("patterns_admin:object-history", ["shop", "order", order_pk]),
        ("patterns_admin:projection-list", []),
        ("patterns_admin:projection-detail", ["revenue_per_day"]),
        ("patterns_admin:projection-rewind", ["revenue_per_day"]),
        ("patterns_admin:diagram-list", []),
        ("patterns_admin:diagram-detail", ["OrderMachine"]),
        ("patterns_admin:cqrs-list", []),
    ]
    return [reverse(name, args=args) for name, args in names]


@pytest.fixture
def superuser_client(db: Any) -> Client:
    from django.contrib.auth.models import User

    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_no_hostile_query_string_makes_a_panel_page_fail(superuser_client: Client) -> None:
    order = Order.objects.create(
        customer="Ada", email="ada@example.com", total=Decimal("10.00"), address="1 Road"
    )
    machines.get("OrderMachine").trigger(order, "pay", user=None)
    stored = EventStore().append("cart-hostile", "Cart", "Opened", {"owner": "ada"})
    pages = panel_pages(order.pk, "cart-hostile", stored.correlation_id)
    failures: list[tuple[str, str, str, int]] = []
    for url, name, value in itertools.product(pages, PARAMETERS, HOSTILE):
        response = superuser_client.get(url, {name: value})
        if response.status_code >= 500:
            failures.append((url, name, value[:20], response.status_code))
    for url, name, raw in itertools.product(pages, PARAMETERS, RAW):
        response = superuser_client.get(f"{url}?{name}={raw}")
        if response.status_code >= 500:
            failures.append((url, name, raw, response.status_code))
    for url in pages:  # repeated keys and every parameter at once
        response = superuser_client.get(url, [(n, v) for n in PARAMETERS for v in ("1", "\x00")])
        if response.status_code >= 500:
            failures.append((url, "all", "1/NUL", response.status_code))
    assert not failures, sorted({(url, name) for url, name, _, _ in failures})


#: The panel's POST actions and the form fields they read.
POST_FIELDS = (
    "action", "confirmed", "cqrs_id", "dead_letter", "force", "next", "post", "reason", "scope",
    "transition", "preview", "ids", "position", "timestamp",
)  # fmt: skip


def test_no_hostile_form_value_makes_a_panel_action_fail(superuser_client: Client) -> None:
    """Every POST action, each form field holding each hostile value (the other fields
    valid where the action needs them): a refusal or a result, never a 500."""
    order = Order.objects.create(
        customer="Ada", email="ada@example.com", total=Decimal("10.00"), address="1 Road"
    )
    actions = [
        reverse(name, args=args)
        for name, args in [
            ("patterns_admin:object-transition-trigger", ["shop", "order", order.pk]),
            ("patterns_admin:bulk-transition-run", ["shop", "order"]),
            ("patterns_admin:plugin-toggle", ["loyalty"]),
            ("patterns_admin:projection-rebuild", ["revenue_per_day"]),
            ("patterns_admin:projection-pause", ["revenue_per_day"]),
            ("patterns_admin:projection-rewind", ["revenue_per_day"]),
            ("patterns_admin:cqrs-resync", []),
            ("patterns_admin:cqrs-replay", []),
        ]
    ]
    base = {"transition": "pay", "reason": "r", "action": "disable", "confirmed": "1"}
    failures: list[tuple[str, str, str, int]] = []
    for url, name, value in itertools.product(actions, POST_FIELDS, HOSTILE):
        response = superuser_client.post(url, {**base, name: value})
        if response.status_code >= 500:
            failures.append((url, name, value[:20], response.status_code))
        response = superuser_client.post(url, {**base, name: value}, headers={"HX-Request": "1"})
        if response.status_code >= 500:
            failures.append((url, f"{name} (htmx)", value[:20], response.status_code))
    assert not failures, sorted({(url, name) for url, name, _, _ in failures})
