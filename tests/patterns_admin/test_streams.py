"""The event-stream list and one stream's page: events, snapshots, replay, live tail.

:class:`StreamPagesContract` holds every assertion; it runs on the Django, memory and Redis
event-store backends (``TOOLKIT["patterns"]["event_store_backend"]``), since the pages read
through the store's public API and never its tables.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.test import Client, TestCase, override_settings
from django.urls import reverse

from demo.shop.carts import ShoppingCart, cart_repository
from patterns_admin.tables_streams import EventStreamTable
from tests import services
from tests.patterns_admin.conftest import make_staff
from tests.patterns_admin.queries import view_queries
from tests.patterns_admin.test_listing import facet, links, query
from toolkit.patterns.event_store import EventStore

LIST_URL = reverse("patterns_admin:stream-list")


def types(html: str) -> dict[str, str]:
    """The type facet's counts of the types these tests store (other tests may register
    more aggregate types, which the facet offers too)."""
    found = facet(html, "aggregate_type")
    return {name: found[name] for name in ("Ledger", "ShoppingCart")}


def detail_url(aggregate_id: str) -> str:
    return reverse("patterns_admin:stream-detail", args=[aggregate_id])


class StreamPagesContract(TestCase):
    """The stream pages on one backend; subclasses pick it in :meth:`use_backend`."""

    __test__ = False  # collected through its subclasses, one per backend

    #: Queries of the list page: session, user, the user's and groups' permissions (view_streams)
    #: (+ the Django backend's type scan and page).
    list_queries = 4
    #: Queries of a stream's page: session, user, the user's and groups' permissions
    #: (+ the Django backend's stream, snapshots).
    detail_queries = 4
    #: Whether the home page counts this backend's streams from the toolkit's tables.
    counts_from_tables = False

    def use_backend(self) -> None:
        """Point ``TOOLKIT`` at the backend under test (an empty one) for this test."""

    def setUp(self) -> None:
        self.use_backend()
        self.staff = make_staff("viewer")
        repo = cart_repository()
        cart = ShoppingCart.open("cart-1", "<script>alert(1)</script>")
        for sku in ("KB-101", "MS-220", "HD-512"):
            cart.add_item(sku, 1, "10.00")
        repo.save(cart)
        cart.check_out()
        repo.save(cart)
        other = ShoppingCart.open("cart-2", "Grace")
        repo.save(other)
        EventStore().append("ledger-1", "Ledger", "Opened", {"owner": "x"})
        self.client.force_login(self.staff)

    # -- list ----------------------------------------------------------------------------

    def test_list_full_page_shows_every_stream_with_count(self) -> None:
        response = self.client.get(LIST_URL)
        html = response.content.decode()
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
        assert "<html" in html
        assert f'href="{detail_url("cart-1")}"' in html
        assert "ledger-1" in html
        assert ">5</td>" in html  # cart-1: opened, 3 items, checked out

    def test_list_rows_render_in_one_template_with_ids_escaped(self) -> None:
        EventStore().append("x<b>1</b>", "Ledger", "Opened", {"owner": "x"})
        response = self.client.get(LIST_URL, {"aggregate_type": "Ledger"})
        html = response.content.decode()
        assert "x&lt;b&gt;1&lt;/b&gt;</a>" in html
        assert "<b>1</b>" not in html
        assert f'href="{detail_url("x<b>1</b>")}"' in html

    def test_list_htmx_gets_only_results(self) -> None:
        response = self.client.get(LIST_URL, headers={"HX-Request": "true"})
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith('<section id="results" ')

    def test_list_filters_by_type_and_id_prefix(self) -> None:
        html = self.client.get(LIST_URL, {"aggregate_type": "Ledger"}).content.decode()
        assert "ledger-1" in html and "cart-1" not in html
        html = self.client.get(LIST_URL, {"aggregate_id": "cart-2"}).content.decode()
        assert "cart-2" in html and "cart-1<" not in html

    def test_list_bad_parameters_give_empty_table_and_message(self) -> None:
        response = self.client.get(LIST_URL, {"aggregate_type": "Nope", "per_page": "x"})
        html = response.content.decode()
        assert response.status_code == 400
        assert "Select a valid choice. Nope is not one of the available choices." in html
        assert "per_page: &#x27;x&#x27; is not a whole number." in html
        assert "cart-1" not in html

    def test_home_page_counts_events_and_streams_from_this_backend(self) -> None:
        html = self.client.get(reverse("patterns_admin:index")).content.decode()

        def card(title: str) -> str:
            found = re.search(
                rf'<div class="label">{title}</div>\s*<div class="value">(.*?)</div>', html
            )
            assert found, f"no {title} card"
            return found.group(1)

        # cart-1: 5 events, cart-2: 1, ledger-1: 1. The Django backend's tables are counted
        # (on PostgreSQL a table the planner believes big gets its estimate: other tests may
        # have left such statistics); other backends give the head position as an estimate.
        streams, events = card("Streams"), card("Events")
        if self.counts_from_tables:
            assert streams == "3" or streams.startswith("≈ "), streams
            assert events == "7" or events.startswith("≈ "), events
        else:
            assert (streams, events) == ("3", "≈ 7")

    def test_list_query_count_does_not_grow_with_streams(self) -> None:
        assert len(view_queries(self.client, LIST_URL)) == self.list_queries
        store = EventStore()
        for i in range(60):
            store.append(f"ledger-x{i}", "Ledger", "Opened", {"owner": str(i)})
        assert len(view_queries(self.client, LIST_URL)) == self.list_queries

    def test_an_unknown_type_alone_is_a_400_form_error(self) -> None:
        response = self.client.get(LIST_URL, {"aggregate_type": "Nope"})
        html = response.content.decode()
        assert response.status_code == 400
        assert "Select a valid choice. Nope is not one of the available choices." in html
        assert "cart-1" not in html
        fragment = self.client.get(
            LIST_URL, {"aggregate_type": "Nope"}, headers={"HX-Request": "true"}
        )
        assert fragment.status_code == 200  # htmx swaps the message in
        assert "is not one of the available choices" in fragment.content.decode()

    def test_list_pages_by_cursor_through_every_stream(self) -> None:
        store = EventStore()
        for i in range(60):
            store.append(f"ledger-x{i:02d}", "Ledger", "Opened", {"owner": str(i)})
        seen: list[str] = []
        params: dict[str, str] = {"aggregate_type": "Ledger", "per_page": "25"}
        for _ in range(5):
            html = self.client.get(LIST_URL, params).content.decode()
            seen += re.findall(r">(ledger-[^<]+)</a>", html)
            older = re.search(r'href="\?([^"]*before=[^"]*)"', html)
            if older is None:
                break
            params = dict(p.split("=", 1) for p in older.group(1).replace("&amp;", "&").split("&"))
        expected = [f"ledger-x{i:02d}" for i in reversed(range(60))] + ["ledger-1"]
        assert seen == expected

    def test_a_bad_page_cursor_is_a_400_message(self) -> None:
        response = self.client.get(LIST_URL, {"before": "not-a-cursor"})
        assert response.status_code == 400
        assert "before: &#x27;not-a-cursor&#x27; is not a stream cursor of this store" in (
            response.content.decode()
        )
        both = self.client.get(LIST_URL, {"before": "1", "after": "2"})
        assert both.status_code == 400
        assert "before and after cannot be used together." in both.content.decode()

    # -- what makes it a list as good as Django admin's ------------------------------------

    def test_list_type_facet_counts_over_the_search_and_the_result_count(self) -> None:
        html = self.client.get(LIST_URL).content.decode()
        assert types(html) == {"Ledger": "1", "ShoppingCart": "2"}
        assert 'data-exact="1">3 rows</p>' in html
        assert ">ShoppingCart (2)</option>" in html
        html = self.client.get(LIST_URL, {"aggregate_id": "cart-"}).content.decode()
        assert types(html) == {"Ledger": "0", "ShoppingCart": "2"}
        html = self.client.get(LIST_URL, {"aggregate_type": "Ledger"}).content.decode()
        # The facet ignores its own choice; the count is the chosen type's.
        assert types(html) == {"Ledger": "1", "ShoppingCart": "2"}
        assert 'data-exact="1">1 row</p>' in html

    def test_list_facet_links_are_filter_changes(self) -> None:
        params = {"aggregate_id": "cart", "per_page": "25", "before": self.first_cursor()}
        html = self.client.get(LIST_URL, params).content.decode()
        link = links(html, "data-value")["Ledger"]
        assert query(link) == [
            ("aggregate_id", "cart"),
            ("per_page", "25"),
            ("aggregate_type", "Ledger"),
        ]

    def first_cursor(self) -> str:
        return EventStore().streams(limit=1)[0].cursor

    def test_list_search_box_searches_the_id_prefix(self) -> None:
        html = self.client.get(LIST_URL).content.decode()
        assert 'type="search"' in html and 'placeholder="aggregate id starts with"' in html
        html = self.client.get(LIST_URL, {"aggregate_id": "led"}).content.decode()
        assert "ledger-1" in html and ">cart-1<" not in html
        assert 'data-exact="1">1 row</p>' in html
        # Case-sensitive, a prefix: not a part of the id.
        html = self.client.get(LIST_URL, {"aggregate_id": "LED"}).content.decode()
        assert 'data-exact="1">0 rows</p>' in html
        html = self.client.get(LIST_URL, {"aggregate_id": "-1"}).content.decode()
        assert 'data-exact="1">0 rows</p>' in html

    def test_list_date_hierarchy_where_the_store_lists_by_time(self) -> None:
        from django.utils import timezone

        today = timezone.localdate()
        html = self.client.get(LIST_URL).content.decode()
        if not EventStore().streams_by_time:
            assert "data-period" not in html and 'name="date"' not in html
            response = self.client.get(LIST_URL, {"date": str(today.year)})
            assert response.status_code == 400
            assert "lists streams by position only, so this list has no date hierarchy" in (
                response.content.decode()
            )
            return
        assert list(links(html, "data-period")) == [str(today.year)]
        html = self.client.get(LIST_URL, {"date": f"{today:%Y-%m}"}).content.decode()
        assert list(links(html, "data-period")) == [f"{today:%Y-%m-%d}"]
        assert 'data-exact="1">3 rows</p>' in html
        html = self.client.get(LIST_URL, {"date": "2001"}).content.decode()
        assert 'data-exact="1">0 rows</p>' in html and ">cart-1<" not in html
        assert types(html) == {"Ledger": "0", "ShoppingCart": "0"}
        response = self.client.get(LIST_URL, {"date": "2026-13"})
        assert response.status_code == 400
        assert "is not a date: month must be in 1..12" in response.content.decode()

    def test_list_newest_page_refreshes_itself_and_an_older_one_does_not(self) -> None:
        html = self.client.get(LIST_URL).content.decode()
        assert 'data-live="1"' in html and 'hx-trigger="every 10s"' in html
        older = self.client.get(LIST_URL, {"before": self.first_cursor()}).content.decode()
        assert 'data-live="1"' not in older
        # A new stream shows up in the newest page's next poll.
        EventStore().append("ledger-new", "Ledger", "Opened", {"owner": "y"})
        poll = self.client.get(LIST_URL, headers={"HX-Request": "true"}).content.decode()
        assert ">ledger-new</a>" in poll and 'data-exact="1">4 rows</p>' in poll

    # -- detail --------------------------------------------------------------------------

    def test_detail_shows_events_versions_and_escaped_payloads(self) -> None:
        response = self.client.get(detail_url("cart-1"))
        html = response.content.decode()
        assert response.status_code == 200
        assert "ShoppingCart.ItemAdded" in html
        assert 'title="schema version">v2<' in html
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    def test_unknown_aggregate_is_404(self) -> None:
        assert self.client.get(detail_url("no-such-cart")).status_code == 404

    def test_replay_to_n_shows_state_and_change(self) -> None:
        response = self.client.get(detail_url("cart-1"), {"at": "3"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "At sequence 3: ShoppingCart.ItemAdded (v2)" in html
        assert "&quot;MS-220&quot;" in html
        assert "&quot;HD-512&quot;" not in html.split('id="replay"')[1].split("</section>")[0]

    def test_replay_htmx_renders_only_the_replay_region(self) -> None:
        response = self.client.get(
            detail_url("cart-1"), {"at": "5"}, headers={"HX-Request": "true", "HX-Target": "replay"}
        )
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith('<section id="replay"')
        assert "&quot;status&quot;: &quot;checked_out&quot;" in html
        assert "HX-Target" in response["Vary"]

    def test_replay_bad_sequence_is_a_message_never_a_500(self) -> None:
        cases = {
            "abc": "at: &#x27;abc&#x27; is not a whole number; choose a sequence from 1 to 5.",
            "0": "at: 0 is out of range; choose a sequence from 1 to 5.",
            "99": "at: 99 is out of range; choose a sequence from 1 to 5.",
        }
        for raw, message in cases.items():
            response = self.client.get(detail_url("cart-1"), {"at": raw})
            assert response.status_code == 400, raw
            assert message in response.content.decode(), raw
            fragment = self.client.get(
                detail_url("cart-1"),
                {"at": raw},
                headers={"HX-Request": "true", "HX-Target": "replay"},
            )
            assert fragment.status_code == 200
            assert message in fragment.content.decode()

    def test_replay_writes_nothing(self) -> None:
        store = EventStore()
        before = (store.head_position(), store.snapshots("cart-1"))
        self.client.get(detail_url("cart-1"), {"at": "2"})
        assert (store.head_position(), store.snapshots("cart-1")) == before

    def test_live_tail_returns_new_events_out_of_band(self) -> None:
        response = self.client.get(
            detail_url("cart-1"),
            {"tail_after": "3"},
            headers={"HX-Request": "true", "HX-Target": "tail-control"},
        )
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="tail-control"')
        assert 'hx-swap-oob="beforeend:#tail-events"' in html
        assert 'data-sequence="4"' in html and 'data-sequence="5"' in html
        assert 'data-sequence="3"' not in html
        assert 'hx-trigger="every 2s"' in html
        assert "tail_after=5" in html
        assert '<dd id="stream-events" hx-swap-oob="true">5</dd>' in html
        assert '<dd id="stream-updated" hx-swap-oob="true">' in html

    def test_live_tail_without_news_keeps_polling_quietly(self) -> None:
        html = self.client.get(
            detail_url("cart-1"),
            {"tail_after": "5"},
            headers={"HX-Request": "true", "HX-Target": "tail-control"},
        ).content.decode()
        assert "hx-swap-oob" not in html
        assert 'hx-trigger="every 2s"' in html

    def test_paused_tail_stops_polling_and_offers_resume(self) -> None:
        html = self.client.get(
            detail_url("cart-1"),
            {"tail_after": "5", "tail": "paused"},
            headers={"HX-Request": "true", "HX-Target": "tail-control"},
        ).content.decode()
        assert "hx-trigger" not in html
        assert 'data-tail="paused"' in html
        assert ">Resume</a>" in html

    def test_snapshots_are_listed(self) -> None:
        repo = cart_repository()
        cart = ShoppingCart.open("cart-big", "Linus")
        for i in range(10):
            cart.add_item(f"SKU-{i}", 1, "1.00")
        repo.save(cart)
        html = self.client.get(detail_url("cart-big")).content.decode()
        assert "state at 11" in html  # 11 events saved at once cross 10

    def test_detail_query_count(self) -> None:
        assert len(view_queries(self.client, detail_url("cart-1"))) == self.detail_queries

    def test_detail_shows_the_time_of_the_first_event(self) -> None:
        first = EventStore().load("cart-1", limit=1)[0].timestamp
        html = self.client.get(detail_url("cart-1"), {"after": "2"}).content.decode()
        assert f"<dt>Started</dt><dd>{first:%Y-%m-%d %H:%M:%S} UTC</dd>" in html

    def test_events_paging_by_sequence(self) -> None:
        response = self.client.get(
            detail_url("cart-1"),
            {"after": "3"},
            headers={"HX-Request": "true", "HX-Target": "events"},
        )
        html = response.content.decode()
        assert html.lstrip().startswith('<section id="events">')
        assert 'data-sequence="4"' in html and 'data-sequence="2"' not in html
        bad = self.client.get(detail_url("cart-1"), {"after": "x"})
        assert bad.status_code == 400
        assert "after: &#x27;x&#x27; is not a whole number" in bad.content.decode()

    def test_aggregate_id_with_a_slash_opens(self) -> None:
        EventStore().append("order/42", "Ledger", "Opened", {"owner": "x"})
        url = detail_url("order/42")
        assert url.endswith("/streams/order/42/")
        response = self.client.get(url, {"at": "1"})
        assert response.status_code == 200
        assert "&quot;owner&quot;: &quot;x&quot;" in response.content.decode()

    def test_an_id_no_store_can_hold_is_a_404(self) -> None:
        assert self.client.get(detail_url("cart\x00")).status_code == 404

    # -- permalinks and nested diffs (issue 14, item 4) -------------------------------------

    def test_every_event_has_a_permalink_with_its_change_field_by_field(self) -> None:
        url = reverse("patterns_admin:event-detail", args=["cart-1", 3])
        html = self.client.get(url).content.decode()
        assert "ShoppingCart.ItemAdded" in html
        assert f'href="{detail_url("cart-1")}events/2/">‹ #2</a>' in html
        assert f'href="{detail_url("cart-1")}events/4/">#4 ›</a>' in html
        assert 'data-path="items.MS-220"' in html  # the nested diff names the field
        assert f'href="{detail_url("cart-1")}events/3/"' in (
            self.client.get(detail_url("cart-1")).content.decode()
        )

    def test_a_permalink_to_a_missing_event_or_stream_is_a_404(self) -> None:
        for args in (["cart-1", 99], ["nope", 1], ["cart-1", 0]):
            url = reverse("patterns_admin:event-detail", args=args)
            assert self.client.get(url).status_code == 404, args

    def test_compare_two_sequences_field_by_field(self) -> None:
        response = self.client.get(
            detail_url("cart-1"),
            {"from": "2", "to": "5"},
            headers={"HX-Request": "true", "HX-Target": "replay"},
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "From sequence 2 to 5" in html
        assert 'data-path="items.HD-512"' in html and 'data-path="items.MS-220"' in html
        assert 'data-path="status"' in html or 'data-path="checked_out"' in html
        bad = self.client.get(detail_url("cart-1"), {"from": "2", "to": "50"})
        assert bad.status_code == 400
        assert "to: 50 is out of range" in bad.content.decode()


class TestStreamPagesOnDjango(StreamPagesContract):
    __test__ = True

    # + the loose index scan of the types, one page of streams, the capped counts of every
    # type (one), the date hierarchy's first and last stream (two seeks)
    list_queries = 9
    # + the stream row, its snapshots (events are read on the driver's cursor: not captured)
    detail_queries = 6
    counts_from_tables = True

    def use_backend(self) -> None:
        self.enterContext(
            override_settings(TOOLKIT={"patterns": {"event_store_backend": "django"}})
        )


class TestStreamPagesOnMemory(StreamPagesContract):
    __test__ = True

    def use_backend(self) -> None:
        # A new TOOLKIT value resets the cached backend: every test starts on an empty one.
        self.enterContext(
            override_settings(TOOLKIT={"patterns": {"event_store_backend": "memory"}})
        )


class TestStreamPagesOnRedis(StreamPagesContract):
    __test__ = True

    def use_backend(self) -> None:
        services.require_redis()
        toolkit: dict[str, Any] = {
            "patterns": {"event_store_backend": "redis"},
            "eventsourcing": {
                "redis_url": services.REDIS_URL,
                "redis_prefix": f"test:panel:{uuid.uuid4().hex}",
            },
        }
        self.enterContext(override_settings(TOOLKIT=toolkit))
        self.addCleanup(EventStore().backend.clear)  # type: ignore[attr-defined]


def test_the_list_table_renders_its_rows_in_one_template() -> None:
    assert EventStreamTable.row_template_name == "patterns_admin/streams/stream_rows.html"


def test_the_anonymous_client_is_never_served(client: Client, db: None) -> None:
    for url in (LIST_URL, detail_url("cart-1")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
