"""Issue 14, defect 1: filters, sort, page size and cursors compose by explicit rules, and the
URL is always the canonical one (audit log, commands, event streams)."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.http import QueryDict
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from demo.shop.carts import ShoppingCart, cart_repository
from patterns_admin.querystring import canonical_query, kept_on_filter
from tests.patterns_admin.conftest import make_staff, make_transitions
from toolkit.models import StateTransitionAudit

AUDIT = reverse("patterns_admin:audit-list")
COMMANDS = reverse("patterns_admin:command-list")
STREAMS = reverse("patterns_admin:stream-list")
HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("transition=pay&model=&page=2", "transition=pay&page=2"),
        ("transition=pay&transition=ship", "transition=ship"),
        ("a=1&b=2&a=3", "a=3&b=2"),
        ("", ""),
        ("q=a+b", "q=a+b"),
    ],
    ids=["drops-empty", "one-value-per-key", "first-position-last-value", "empty", "space"],
)
def test_canonical_query(query: str, expected: str) -> None:
    assert canonical_query(QueryDict(query)) == expected


def test_a_filter_change_keeps_only_sort_and_page_size() -> None:
    params = QueryDict("sort=-created_at&per_page=25&before=1_2&after=&page=3&model=x")
    assert kept_on_filter(params) == {"sort": "-created_at", "per_page": "25"}


class _Form(HTMLParser):
    """The filter form's method, action, hx-get and hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str | None] = {}
        self.hidden: dict[str, str | None] = {}
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and "panel-filters" in (found.get("class") or ""):
            self.attrs, self.inside = found, True
        elif tag == "input" and self.inside and found.get("type") == "hidden":
            self.hidden[found["name"] or ""] = found.get("value")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def filter_form(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    assert parser.attrs, "no filter form"
    return parser


class FilterAfterPagingTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        start = timezone.now() - timedelta(days=1)
        # 120 rows, every third one a "ship": the newest pay row is the newest row.
        make_transitions(
            120,
            transition=lambda i: "ship" if i % 3 == 0 else "pay",
            created_at=lambda i: start + timedelta(seconds=i),
        )
        repo = cart_repository()
        for i in range(3):
            repo.save(ShoppingCart.open(f"cart-{i}", "Grace"))

    def setUp(self) -> None:
        self.client.force_login(self.staff)

    def test_the_filter_form_submits_to_the_path_never_to_the_current_query(self) -> None:
        for url in (AUDIT, COMMANDS, STREAMS):
            html = self.client.get(url + "?per_page=25&before=1700000000000000_5").content.decode()
            form = filter_form(html)
            assert form.attrs["action"] == url and form.attrs["hx-get"] == url, url
            assert "before" not in form.hidden and "page" not in form.hidden
            assert form.hidden.get("per_page") == "25"

    def test_the_form_keeps_tab_sort_and_page_size_as_hidden_inputs(self) -> None:
        html = self.client.get(
            AUDIT + "?kind=transitions&sort=-created_at&per_page=100&page=2"
        ).content.decode()
        assert filter_form(html).hidden == {
            "kind": "transitions",
            "sort": "-created_at",
            "per_page": "100",
        }

    def test_filtering_after_older_shows_the_newest_matches(self) -> None:
        # Reproduces defect 1: page to "Older ›", then filter by transition.
        first = self.client.get(AUDIT + "?kind=transitions&per_page=25").content.decode()
        older = first.split('class="next"><a href="')[1].split('"')[0].replace("&amp;", "&")
        assert "before=" in older
        html = self.client.get(AUDIT + older).content.decode()
        form = filter_form(html)
        # What the form sends: its action plus its fields (the browser adds nothing else).
        query = {**{k: v for k, v in form.hidden.items() if v}, "transition": "pay"}
        response = self.client.get(form.attrs["action"] or "", query, headers=HTMX)
        newest_pay = StateTransitionAudit.objects.filter(transition="pay").latest("created_at")
        rows = response.content.decode()
        assert f">{newest_pay.object_id}<" in rows
        assert "before=" not in response.get("HX-Push-Url", "")

    def test_a_plain_request_with_a_non_canonical_query_is_redirected(self) -> None:
        response = self.client.get(
            AUDIT + "?kind=transitions&model=&transition=pay&transition=ship"
        )
        assert response.status_code == 302
        assert response["Location"] == AUDIT + "?kind=transitions&transition=ship"
        assert self.client.get(response["Location"]).status_code == 200

    def test_an_htmx_request_with_a_non_canonical_query_pushes_the_canonical_url(self) -> None:
        for url in (AUDIT, COMMANDS, STREAMS):
            response = self.client.get(url + "?per_page=25&sort=", headers=HTMX)
            assert response.status_code == 200
            assert response["HX-Push-Url"] == url + "?per_page=25", url
            canonical = self.client.get(url + "?per_page=25", headers=HTMX)
            assert "HX-Push-Url" not in canonical, url

    def test_sort_and_page_size_links_drop_the_cursor(self) -> None:
        html = self.client.get(AUDIT + "?kind=transitions&before=1700000000000000_5").content
        text = html.decode()
        for link in text.split('href="')[1:]:
            href = link.split('"')[0]
            if "sort=" in href or "per_page=" in href:
                assert "before=" not in href and "after=" not in href, href

    def test_no_template_uses_an_empty_hx_get(self) -> None:
        from pathlib import Path

        root = Path(__file__).resolve().parents[2] / "templates"
        offenders = [
            str(path)
            for path in root.rglob("*.html")
            if 'hx-get=""' in path.read_text() or 'action=""' in path.read_text()
        ]
        assert offenders == []
