"""Diagram pages: every machine as inline SVG, an object's path, counts, DOT/Mermaid."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

from django.test import Client, TestCase
from django.urls import reverse

from demo.shop.models import Order
from patterns_admin import diagrams
from tests.patterns_admin.conftest import make_staff
from tests.patterns_admin.queries import view_queries
from toolkit.registry import machines

LIST_URL = reverse("patterns_admin:diagram-list")
DETAIL_URL = reverse("patterns_admin:diagram-detail", args=["OrderMachine"])


class DiagramPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.staff = make_staff("viewer")
        admin = make_staff("boss")
        admin.is_superuser = True
        admin.save()
        machine = machines.get("OrderMachine")
        cls.order = Order.objects.create(
            customer="Ada", email="ada@example.com", total=Decimal("10"), address="1 Road"
        )
        machine.trigger(cls.order, "pay", user=admin)
        machine.trigger(cls.order, "ship", user=admin)
        Order.objects.create(customer="Bob", email="bob@example.com", total=Decimal("5"))

    def setUp(self) -> None:
        self.client.force_login(self.staff)

    def test_anonymous_is_sent_to_login(self) -> None:
        assert Client().get(LIST_URL).status_code == 302

    def test_list_draws_every_registered_machine_inline(self) -> None:
        response = self.client.get(LIST_URL)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" in html
        for name in machines:
            assert f'id="machine-{name.lower()}"' in html or name in html
        assert "<svg" in html and "<?xml" not in html
        assert "pay [passes_fraud_screening]" in html  # guard names on edges

    def test_list_htmx_gets_only_results(self) -> None:
        html = self.client.get(LIST_URL, headers={"HX-Request": "true"}).content.decode()
        assert html.lstrip().startswith('<section id="results"')

    def test_counts_per_state_in_one_query(self) -> None:
        html = self.client.get(DETAIL_URL).content.decode()
        objects = reverse("patterns_admin:object-list", args=["shop", "order"])
        for state in ("pending", "shipped"):
            assert (
                f'<tr data-state="{state}"><td>{state}</td><td class="num">'
                f'<a href="{objects}?state={state}" title="The objects in {state}">1</a></td>'
            ) in html
        # session, user, the GROUP BY, the user's and the groups' permissions (the links)
        assert len(view_queries(self.client, DETAIL_URL)) == 5
        Order.objects.bulk_create(
            Order(customer=f"C{i}", email="c@example.com", status="paid") for i in range(30)
        )
        assert len(view_queries(self.client, DETAIL_URL)) == 5

    def test_object_path_and_current_state_are_highlighted(self) -> None:
        response = self.client.get(DETAIL_URL, {"object": self.order.pk})
        html = response.content.decode()
        assert response.status_code == 200
        assert "<li><strong>pay</strong>: pending → paid</li>" in html
        assert "<li><strong>ship</strong>: paid → shipped</li>" in html
        assert '"shipped" [style="rounded,filled,bold", fillcolor="#ffe08a"]' in html.replace(
            "&quot;", '"'
        )
        assert 'class="pa-current-row"' in html

    def test_detail_full_page_and_htmx_fragment(self) -> None:
        page = self.client.get(DETAIL_URL, {"object": self.order.pk})
        assert "HX-Request" in page["Vary"]
        assert "<html" in page.content.decode()
        assert 'id="diagram-object"' in page.content.decode()  # the form is outside #diagram
        fragment = self.client.get(
            DETAIL_URL, {"object": self.order.pk}, headers={"HX-Request": "true"}
        ).content.decode()
        assert "<html" not in fragment
        assert fragment.lstrip().startswith('<section id="diagram" class="pa-diagram">')
        assert 'id="diagram-object"' not in fragment
        assert "<svg" in fragment and 'class="pa-current-row"' in fragment

    def test_unknown_object_is_a_message_not_a_500(self) -> None:
        for pk in ("999999", "not-a-pk"):
            response = self.client.get(DETAIL_URL, {"object": pk})
            assert response.status_code == 400
            assert (
                f"object: no shop.order with pk &#x27;{pk}&#x27;; showing the machine alone."
                in response.content.decode()
            )

    def test_unknown_machine_is_404(self) -> None:
        url = reverse("patterns_admin:diagram-detail", args=["NoMachine"])
        assert self.client.get(url).status_code == 404

    def test_download_dot_and_mermaid(self) -> None:
        response = self.client.get(DETAIL_URL, {"download": "dot"})
        assert response["Content-Disposition"] == 'attachment; filename="OrderMachine.gv"'
        assert response.content.decode().startswith('digraph "OrderMachine"')
        response = self.client.get(DETAIL_URL, {"download": "mermaid", "object": self.order.pk})
        assert response["Content-Disposition"] == (
            f'attachment; filename="OrderMachine-{self.order.pk}.mmd"'
        )
        assert response.content.decode().startswith("stateDiagram-v2")

    def test_unknown_download_format_lists_choices(self) -> None:
        response = self.client.get(DETAIL_URL, {"download": "png"})
        assert response.status_code == 400
        assert (
            "download: &#x27;png&#x27; is not a format; choices are: &#x27;dot&#x27;, "
            "&#x27;mermaid&#x27;." in response.content.decode()
        )

    def test_copy_buttons_and_texts_are_on_the_page(self) -> None:
        html = self.client.get(DETAIL_URL).content.decode()
        assert 'id="dot-text"' in html and 'id="mermaid-text"' in html
        assert '<button type="button" class="button" data-copy="dot-text">Copy</button>' in html
        assert 'data-copy="mermaid-text"' in html
        assert "patterns_admin/panel.js" in html  # where the data-copy handler lives

    def test_render_failure_is_shown_not_raised(self) -> None:
        diagrams.clear_local_cache()
        error = diagrams.DiagramRenderError("No graphviz binary found: install it")
        with mock.patch("patterns_admin.views.diagrams.render_svg", side_effect=error):
            response = self.client.get(DETAIL_URL)
        assert response.status_code == 200
        assert "No graphviz binary found: install it" in response.content.decode()


class RenderSvgTests(TestCase):
    def setUp(self) -> None:
        diagrams.clear_local_cache()

    def test_svg_is_cached_by_dot_hash(self) -> None:
        dot = 'digraph "t" { a -> b [label="g"]; }'
        with mock.patch("patterns_admin.diagrams._run", wraps=diagrams._run) as run:
            first = diagrams.render_svg(dot)
            diagrams.clear_local_cache()  # the Django cache still has it
            second = diagrams.render_svg(dot)
        assert first == second
        assert first.startswith("<svg")
        assert run.call_count == 1

    def test_bad_dot_raises_with_the_binary_and_stderr(self) -> None:
        with self.assertRaises(diagrams.DiagramRenderError) as ctx:
            diagrams.render_svg("this is not dot {")
        assert "exited with status" in str(ctx.exception)
        assert ctx.exception.command is not None


class TransitionTableTests(TestCase):
    def test_guard_names_and_explanations_are_listed(self) -> None:
        client = Client()
        client.force_login(make_staff("viewer"))
        html = client.get(DETAIL_URL).content.decode()
        assert '<span title="cannot ship an order without an address">has_address</span>' in html
        assert "<td>shop.refund_order</td>" in html


class FindRendererTests(TestCase):
    def test_falls_back_to_dot_on_path(self) -> None:
        with (
            mock.patch("patterns_admin.diagrams.Path.exists", return_value=False),
            mock.patch(
                "patterns_admin.diagrams.shutil.which",
                side_effect=lambda name: "/usr/bin/dot" if name == "dot" else None,
            ),
        ):
            assert diagrams.find_renderer() == "/usr/bin/dot"

    def test_no_binary_names_the_package_to_install(self) -> None:
        with (
            mock.patch("patterns_admin.diagrams.Path.exists", return_value=False),
            mock.patch("patterns_admin.diagrams.shutil.which", return_value=None),
            self.assertRaises(diagrams.DiagramRenderError) as ctx,
        ):
            diagrams.find_renderer()
        assert str(ctx.exception) == (
            "No graphviz binary found: install the 'graphviz-pure' package "
            "(pip install graphviz-pure) or put graphviz's 'dot' on PATH."
        )

    def test_timeout_is_reported(self) -> None:
        import subprocess

        diagrams.clear_local_cache()
        timeout = subprocess.TimeoutExpired(cmd="graphviz-pure", timeout=15)
        with (
            mock.patch("patterns_admin.diagrams.subprocess.run", side_effect=timeout),
            self.assertRaises(diagrams.DiagramRenderError) as ctx,
        ):
            diagrams.render_svg('digraph "slow" { a; }')
        assert str(ctx.exception).endswith("did not finish within 15 s")
