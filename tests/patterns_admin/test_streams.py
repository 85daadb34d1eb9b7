"""The event-stream list and one stream's page: events, snapshots, replay, live tail."""

from __future__ import annotations

from django.test import Client, TestCase
from django.urls import reverse

from demo.shop.carts import ShoppingCart, cart_repository
from patterns_admin.tables_streams import EventStreamTable
from tests.patterns_admin.conftest import make_staff
from tests.patterns_admin.queries import view_queries
from toolkit.patterns.event_store import EventStore

LIST_URL = reverse("patterns_admin:stream-list")


def detail_url(aggregate_id: str) -> str:
    return reverse("patterns_admin:stream-detail", args=[aggregate_id])


class StreamPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
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

    def setUp(self) -> None:
        self.client.force_login(self.staff)

    # -- list ----------------------------------------------------------------------------

    def test_anonymous_is_sent_to_login(self) -> None:
        for url in (LIST_URL, detail_url("cart-1")):
            response = Client().get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))

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
        assert EventStreamTable.row_template_name == "patterns_admin/streams/stream_rows.html"
        assert "x&lt;b&gt;1&lt;/b&gt;</a>" in html
        assert "<b>1</b>" not in html
        assert f'href="{detail_url("x<b>1</b>")}"' in html

    def test_list_htmx_gets_only_results(self) -> None:
        response = self.client.get(LIST_URL, headers={"HX-Request": "true"})
        html = response.content.decode()
        assert "<html" not in html
        assert html.lstrip().startswith('<section id="results">')

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

    def test_list_query_count_does_not_grow_with_streams(self) -> None:
        # session, user, DISTINCT types for the filter, one page of streams
        assert len(view_queries(self.client, LIST_URL)) == 4
        store = EventStore()
        for i in range(60):
            store.append(f"ledger-x{i}", "Ledger", "Opened", {"owner": str(i)})
        assert len(view_queries(self.client, LIST_URL)) == 4

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
        from toolkit.models import DomainEvent, Snapshot

        before = (DomainEvent.objects.count(), Snapshot.objects.count())
        self.client.get(detail_url("cart-1"), {"at": "2"})
        assert (DomainEvent.objects.count(), Snapshot.objects.count()) == before

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
        # session, user, stream, events page, snapshots
        assert len(view_queries(self.client, detail_url("cart-1"))) == 5

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


class StreamIdsWithSlashesTests(TestCase):
    def test_aggregate_id_with_a_slash_opens(self) -> None:
        EventStore().append("order/42", "Ledger", "Opened", {"owner": "x"})
        client = Client()
        client.force_login(make_staff("viewer"))
        url = detail_url("order/42")
        assert url.endswith("/streams/order/42/")
        response = client.get(url, {"at": "1"})
        assert response.status_code == 200
        assert "&quot;owner&quot;: &quot;x&quot;" in response.content.decode()


class StoredAggregateTypesTests(TestCase):
    def test_loose_index_scan_lists_each_type_once(self) -> None:
        from patterns_admin.tables_streams import stored_aggregate_types

        assert stored_aggregate_types() == []
        store = EventStore()
        for i in range(5):
            store.append(f"b-{i}", "Basket", "Opened", {})
            store.append(f"a-{i}", "Account", "Opened", {})
        assert stored_aggregate_types() == ["Account", "Basket"]
