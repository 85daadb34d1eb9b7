"""Issue 14 item 4: the all-events feed and the correlation view (one request's commands and
events as a tree).

:class:`FeedPagesContract` holds every assertion; it runs on the Django, memory and Redis
event-store backends, as the stream pages do (the pages read through the store's public API).
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from demo.shop.carts import ShoppingCart, cart_repository
from patterns_admin.feed import EventFeedTable, FeedRow, Links, correlation_tree
from tests import services
from tests.patterns_admin.conftest import make_staff
from toolkit.eventsourcing import event_context
from toolkit.models import CommandAuditLog
from toolkit.patterns.command import Command
from toolkit.patterns.event_store import EventStore

FEED_URL = reverse("patterns_admin:event-feed")
HTMX = {"HTTP_HX_REQUEST": "true"}
SENSITIVE = {"admin": {"sensitive_fields": ["email"]}}


def tree_url(correlation_id: str) -> str:
    return reverse("patterns_admin:correlation", args=[correlation_id])


class CheckOutCart(Command[None]):
    """Check a cart out (appends ``ShoppingCart.CheckedOut``); audited."""

    audit = True

    def __init__(self, cart_id: str) -> None:
        self.cart_id = cart_id

    def execute(self) -> None:
        repo = cart_repository()
        cart = repo.get(self.cart_id)
        cart.check_out()
        repo.save(cart)


class NoteCharge(Command[None]):
    """Note a charge (appends ``Ledger.Noted``); audited, run by an event handler."""

    audit = True

    def execute(self) -> None:
        EventStore().append("ledger-2", "Ledger", "Noted", {"amount": "10.00"})


class FeedPagesContract(TestCase):
    """The feed and the correlation view on one backend; subclasses pick it."""

    __test__ = False

    def toolkit(self) -> dict[str, Any]:
        """``TOOLKIT`` for the backend under test (an empty one)."""
        return {"patterns": {"event_store_backend": "memory", "audit": True}, **SENSITIVE}

    def setUp(self) -> None:
        self.enterContext(override_settings(TOOLKIT=self.toolkit()))
        self.reader = make_staff("reader")
        repo = cart_repository()
        with event_context(correlation_id="req-1"):
            cart = ShoppingCart.open("cart-1", "Grace")
            cart.add_item("KB-101", 1, "10.00")
            repo.save(cart)
        store = EventStore()
        for index in range(3):
            store.append(f"ledger-{index}", "Ledger", "Opened", {"owner": f"o{index}"})
        self.client.force_login(self.reader)

    def rows(self, html: str) -> list[str]:
        """The positions of the feed rows shown, top to bottom."""
        return re.findall(r'<tr data-position="(\d+)">', html)

    # -- the feed ------------------------------------------------------------------------

    def test_the_feed_lists_every_event_newest_first_with_its_links(self) -> None:
        response = self.client.get(FEED_URL)
        html = response.content.decode()
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
        positions = [int(p) for p in self.rows(html)]
        assert len(positions) == 5 and positions == sorted(positions, reverse=True)
        permalink = reverse("patterns_admin:event-detail", args=["cart-1", 2])
        assert f'href="{permalink}"' in html
        assert f'href="{reverse("patterns_admin:stream-detail", args=["cart-1"])}"' in html
        assert f'href="{tree_url("req-1")}"' in html
        assert f'href="{FEED_URL}" aria-current="page"' in html  # the nav link

    def test_filters_by_event_type_aggregate_type_correlation_and_time(self) -> None:
        def shown(**params: str) -> int:
            response = self.client.get(FEED_URL, params)
            assert response.status_code == 200, response.content.decode()
            return len(self.rows(response.content.decode()))

        assert shown(event_type="ShoppingCart.ItemAdded") == 1
        assert shown(event_type="Nope") == 0
        assert shown(aggregate_type="Ledger") == 3
        assert shown(correlation_id="req-1") == 2
        assert shown(aggregate_type="Ledger", event_type="ShoppingCart.Opened") == 0
        now = timezone.localtime()
        later = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        earlier = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        assert shown(since=earlier) == 5
        assert shown(since=later) == 0
        assert shown(until=earlier) == 0
        assert shown(since=earlier, until=later, aggregate_type="Ledger") == 3

    def test_the_correlation_filter_offers_the_tree(self) -> None:
        html = self.client.get(FEED_URL, {"correlation_id": "req-1"}).content.decode()
        assert 'data-role="correlation-tree"' in html
        assert f'href="{tree_url("req-1")}"' in html

    def test_keyset_pages_walk_the_whole_feed_without_offset(self) -> None:
        store = EventStore()
        for index in range(60):
            store.append("busy", "Ledger", "Posted", {"n": index})
        seen: list[str] = []
        url = f"{FEED_URL}?per_page=25"
        pages = 0
        while url:
            response = self.client.get(url)
            html = response.content.decode()
            assert response.status_code == 200
            seen += self.rows(html)
            pages += 1
            older = re.search(r'<li class="next"><a href="([^"]+)"', html)
            url = FEED_URL + older.group(1).replace("&amp;", "&") if older else ""
            if url:
                assert "before=" in url and "per_page=25" in url and "offset" not in url
        assert pages == 3
        assert len(seen) == 65 and len(set(seen)) == 65
        # Newer from the last page comes back to the page before it.
        back = self.client.get(FEED_URL, {"per_page": "25", "after": seen[50]})
        assert self.rows(back.content.decode())[0] == seen[25]

    def test_a_filter_change_drops_the_cursor(self) -> None:
        html = self.client.get(
            FEED_URL, {"per_page": "25", "before": "4"}, headers={}
        ).content.decode()
        form = re.search(r'<form method="get" action="([^"]*)"(.*?)</form>', html, re.S)
        assert form is not None
        assert form.group(1) == FEED_URL  # not "": htmx would keep the query
        hidden = re.findall(r'<input type="hidden" name="(\w+)"', form.group(2))
        assert hidden == ["per_page"]  # the cursor is not carried into a filter change

    def test_a_non_canonical_query_redirects_to_the_canonical_url(self) -> None:
        response = self.client.get(f"{FEED_URL}?aggregate_type=&event_type=a&event_type=b")
        assert response.status_code == 302
        assert response["Location"] == f"{FEED_URL}?event_type=b"

    def test_bad_input_is_a_400_with_the_reason(self) -> None:
        cases = {
            "since=yesterday": "since: not a date and time",
            "until=2026-13-45T10:00": "until: not a date and time",
            "before=abc": "before: 'abc' is not a feed position",
            "after=-3": "after: '-3' is not a feed position",
            "before=0": "before: '0' is not a feed position",
            "before=99999999999999999999999": "is not a feed position",
            "aggregate_type=Nope": "aggregate_type: Select a valid choice",
            "before=3&after=1": "before and after cannot be used together",
            "per_page=7": "per_page: '7' is not one of",
            "page=2": "page: the feed is paged with the Older / Newer links",
            f"correlation_id={'x' * 65}": "correlation_id: Ensure this value has at most 64",
            "event_type=a%00b": "Null characters are not allowed",
            "since=2026-12-04T10:00&until=2026-12-04T09:00": "until: must be later than From",
        }
        for query, message in cases.items():
            response = self.client.get(f"{FEED_URL}?{query}")
            html = response.content.decode()
            assert response.status_code == 400, (query, response.status_code)
            assert message in html.replace("&#x27;", "'"), (query, html[-3000:])
            fragment = self.client.get(f"{FEED_URL}?{query}", **HTMX)
            assert fragment.status_code == 200 and "<html" not in fragment.content.decode()

    def test_the_fragment_renders_the_results_only(self) -> None:
        response = self.client.get(FEED_URL, {"aggregate_type": "Ledger"}, **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith('<section id="results">')
        assert len(self.rows(html)) == 3

    def test_event_types_of_registered_aggregates_are_suggested(self) -> None:
        html = self.client.get(FEED_URL).content.decode()
        assert '<datalist id="suggest-event_type">' in html
        assert '<option value="ShoppingCart.CheckedOut">' in html

    # -- the correlation view ------------------------------------------------------------

    def run_request(self) -> str:
        """One request: a command that checks cart-1 out, and an event its checkout caused."""
        with event_context(correlation_id="req-2"):
            CheckOutCart("cart-1").execute(user=self.reader)
            checked_out = EventStore().load("cart-1")[-1]
            EventStore().append(
                "ledger-0",
                "Ledger",
                "Charged",
                {"amount": "10.00", "email": "grace@example.com"},
                causation_id=str(checked_out.event_id),
            )
        return "req-2"

    def test_a_command_records_the_correlation_its_events_carry(self) -> None:
        self.run_request()
        row = CommandAuditLog.objects.get(command__endswith="CheckOutCart")
        assert row.correlation_id == "req-2"
        checked_out = EventStore().load("cart-1")[-1]
        assert checked_out.correlation_id == "req-2"
        # created_at is the start plus the duration: the event was stamped in between.
        start = row.created_at - timedelta(milliseconds=row.duration_ms)
        assert start <= checked_out.timestamp <= row.created_at
        # Without an enclosing context the command starts one of its own.
        repo = cart_repository()
        cart = ShoppingCart.open("cart-9", "Ada")
        cart.add_item("KB-101", 1, "10.00")
        repo.save(cart)
        CheckOutCart("cart-9").execute()
        own = CommandAuditLog.objects.order_by("-id").first()
        assert own is not None and own.correlation_id and len(own.correlation_id) == 32
        assert EventStore().load("cart-9")[-1].correlation_id == own.correlation_id

    def test_the_tree_nests_events_under_their_command_and_cause(self) -> None:
        correlation = self.run_request()
        response = self.client.get(tree_url(correlation))
        html = response.content.decode()
        assert response.status_code == 200, html
        row = CommandAuditLog.objects.get(correlation_id=correlation)
        command = f'data-key="command:{row.pk}"'
        assert command in html
        # command > CheckedOut > Ledger.Charged, in one nested list each.
        tree = html[html.index('data-role="tree"') :]
        after_command = tree[tree.index(command) :]
        assert "ShoppingCart.CheckedOut" in after_command, tree
        checked = after_command.index("ShoppingCart.CheckedOut")
        charged = after_command.index(">Charged<")
        assert checked < charged
        assert after_command[:charged].count('<ul class="pa-tree"') == 2
        assert reverse("patterns_admin:command-detail", args=[row.pk]) in html
        assert reverse("patterns_admin:event-detail", args=["ledger-0", 2]) in html
        assert "1 command" in html and "2 events" in html

    def test_a_handler_s_events_and_commands_carry_the_cause_and_nest_under_it(self) -> None:
        """An event handler runs in its event's context: what it appends and the commands it
        executes carry the event's correlation id and, as causation, the event's id; the
        command's own events carry no causation and nest under the command."""
        from toolkit.eventsourcing import handlers

        def on_checked_out(event: Any) -> None:
            EventStore().append("ledger-1", "Ledger", "Charged", {"amount": "10.00"})
            NoteCharge().execute()

        handlers.subscribe(on_checked_out, "ShoppingCart.CheckedOut")
        self.addCleanup(handlers.unsubscribe, on_checked_out)
        with self.captureOnCommitCallbacks(execute=True), event_context(correlation_id="req-3"):
            CheckOutCart("cart-1").execute(user=self.reader)
        store = EventStore()
        checked_out = store.load("cart-1")[-1]
        charged = store.load("ledger-1")[-1]
        noted = store.load("ledger-2")[-1]
        assert (charged.correlation_id, charged.causation_id) == (
            "req-3",
            str(checked_out.event_id),
        )
        note = CommandAuditLog.objects.get(command__endswith="NoteCharge")
        assert (note.correlation_id, note.causation_id) == ("req-3", str(checked_out.event_id))
        assert (noted.correlation_id, noted.causation_id) == ("req-3", "")
        checkout = CommandAuditLog.objects.get(command__endswith="CheckOutCart")
        assert checkout.causation_id == ""  # run by the request, not by an event
        html = self.client.get(tree_url("req-3")).content.decode()
        tree = html[html.index('data-role="tree"') :]
        # CheckOutCart > CheckedOut > (Charged, NoteCharge > Noted)
        under_checkout = tree[tree.index(f'data-key="command:{checkout.pk}"') :]
        under_event = under_checkout[under_checkout.index("ShoppingCart.CheckedOut") :]
        assert under_event.index(">Charged<") < under_event.index(f'data-key="command:{note.pk}"')
        depth = under_checkout[: under_checkout.index(">Noted<")].count('<ul class="pa-tree"')
        assert depth == 3, tree
        detail = self.client.get(reverse("patterns_admin:command-detail", args=[note.pk]))
        assert (
            f'<code data-role="causation">{checked_out.event_id}</code>' in detail.content.decode()
        )

    def test_the_tree_masks_sensitive_fields(self) -> None:
        correlation = self.run_request()
        html = self.client.get(tree_url(correlation)).content.decode()
        assert "grace@example.com" not in html
        assert "••••••" in html
        feed = self.client.get(FEED_URL, {"correlation_id": correlation}).content.decode()
        assert "grace@example.com" not in feed and "••••••" in feed
        self.client.force_login(make_staff("sees-all", "view_sensitive"))
        assert "grace@example.com" in self.client.get(tree_url(correlation)).content.decode()

    def test_the_tree_hides_commands_without_view_commands(self) -> None:
        correlation = self.run_request()
        self.client.force_login(make_staff("streams-only", "view_streams", read=False))
        html = self.client.get(tree_url(correlation)).content.decode()
        assert "command:" not in html
        assert "commands are not shown" in html
        assert "ShoppingCart.CheckedOut" in html

    def test_the_tree_shows_the_oldest_when_a_correlation_is_too_big(self) -> None:
        self.run_request()
        with mock.patch("patterns_admin.views.feed.TREE_LIMIT", 1):
            html = self.client.get(tree_url("req-1")).content.decode()
        assert "Only the first 1 of each are shown." in html
        assert "ShoppingCart.Opened" in html and "ShoppingCart.ItemAdded" not in html

    def test_the_tree_names_the_acting_user(self) -> None:
        self.run_request()
        with event_context(correlation_id="req-3", user=self.reader):
            EventStore().append("ledger-1", "Ledger", "Closed", {})
        html = self.client.get(tree_url("req-3")).content.decode()
        assert "by reader" in html

    def test_an_unknown_correlation_is_an_empty_tree_and_bad_ids_400(self) -> None:
        response = self.client.get(tree_url("nobody"))
        assert response.status_code == 200
        assert "Nothing recorded with this correlation id." in response.content.decode()
        long = self.client.get(tree_url("x" * 65))
        assert long.status_code == 400
        assert "the longest is 64" in long.content.decode()
        nul = self.client.get(tree_url("a\x00b"))
        assert nul.status_code == 400

    def test_command_detail_and_event_permalink_link_to_the_tree(self) -> None:
        correlation = self.run_request()
        row = CommandAuditLog.objects.get(correlation_id=correlation)
        detail = self.client.get(reverse("patterns_admin:command-detail", args=[row.pk]))
        assert f'href="{tree_url(correlation)}"' in detail.content.decode()
        event = self.client.get(reverse("patterns_admin:event-detail", args=["cart-1", 1]))
        assert f'href="{tree_url("req-1")}"' in event.content.decode()


class TestFeedPagesOnDjango(FeedPagesContract):
    __test__ = True

    def toolkit(self) -> dict[str, Any]:
        return {"patterns": {"event_store_backend": "django", "audit": True}, **SENSITIVE}


class TestFeedPagesOnMemory(FeedPagesContract):
    __test__ = True


class TestFeedPagesOnRedis(FeedPagesContract):
    __test__ = True

    prefix = f"test:feed:{uuid.uuid4().hex}"

    def setUp(self) -> None:
        services.require_redis()
        super().setUp()
        self.addCleanup(EventStore().backend.clear)  # type: ignore[attr-defined]

    def toolkit(self) -> dict[str, Any]:
        return {
            "patterns": {"event_store_backend": "redis", "audit": True},
            "eventsourcing": {"redis_url": services.REDIS_URL, "redis_prefix": self.prefix},
            **SENSITIVE,
        }


def test_the_feed_table_renders_its_rows_in_one_template() -> None:
    assert EventFeedTable.row_template_name == "patterns_admin/feed/feed_rows.html"


@pytest.mark.parametrize("value", ["cart-1", "a b/ç?#%&=+", "x" * 64, "/lead", "%01\x01"])
def test_row_links_are_what_reverse_builds(value: str) -> None:
    links = Links()
    assert links.stream(value) == reverse("patterns_admin:stream-detail", args=[value])
    assert links.event(value, 12) == reverse("patterns_admin:event-detail", args=[value, 12])
    assert links.correlation(value) == reverse("patterns_admin:correlation", args=[value])
    assert links.command(7) == reverse("patterns_admin:command-detail", args=[7])


def test_row_times_are_shown_as_the_date_filter_shows_them() -> None:
    from django.template.defaultfilters import date
    from django.utils import timezone as tz

    moment = tz.now()
    row = FeedRow(1, "T", "A", "a", 1, moment, "", "", "{}")
    EventFeedTable([row]).prepare_records([row])
    assert row.when == date(moment, "Y-m-d H:i:s T")


def test_causation_loops_do_not_hide_events() -> None:
    from toolkit.eventsourcing.store import StoredEvent

    now = timezone.now()
    first_id, second_id = uuid.uuid4(), uuid.uuid4()
    events = [
        StoredEvent("a", "A", 1, "X", {}, 1, first_id, now, causation_id=str(second_id)),
        StoredEvent("a", "A", 2, "Y", {}, 2, second_id, now, causation_id=str(first_id)),
    ]
    tree = correlation_tree(events, [], mask=lambda value: value)
    assert sorted(node.title for node in tree.roots) == ["X", "Y"]
