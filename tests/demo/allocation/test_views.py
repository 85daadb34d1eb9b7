"""The demo's HTTP entry points: allocate, the read model, and /metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import date
from unittest import mock

from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client, TestCase, override_settings

from demo.allocation import bootstrap, commands, models
from demo.allocation.views import allocations

TOKEN = "t" * 40


def add_batch(ref: str, sku: str, qty: int, eta: str | None = None) -> None:
    bootstrap.bootstrap().handle(
        commands.CreateBatch(ref, sku, qty, None if eta is None else date.fromisoformat(eta))
    )


class ApiTests(TestCase):
    """The book's e2e ``test_api.py``, through the Django views."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = User.objects.create_user("api", password="x")

    def setUp(self) -> None:
        self.client.force_login(self.user)

    def post_to_add_batch(self, ref: str, sku: str, qty: int, eta: str | None) -> None:
        response = self.client.post(
            "/allocation/add_batch/",
            data=json.dumps({"ref": ref, "sku": sku, "qty": qty, "eta": eta}),
            content_type="application/json",
        )
        assert response.status_code == 201, response.content

    def post_to_allocate(self, orderid: str, sku: str, qty: int) -> HttpResponse:
        return self.client.post(
            "/allocation/allocate/",
            data=json.dumps({"orderid": orderid, "sku": sku, "qty": qty}),
            content_type="application/json",
        )

    def test_happy_path_returns_202_and_batch_is_allocated(self) -> None:
        orderid, sku, othersku = "order-1", "sku-1", "other-sku-1"
        earlybatch, laterbatch, otherbatch = "batch-1", "batch-2", "batch-3"
        self.post_to_add_batch(laterbatch, sku, 100, "2011-01-02")
        self.post_to_add_batch(earlybatch, sku, 100, "2011-01-01")
        self.post_to_add_batch(otherbatch, othersku, 100, None)

        response = self.post_to_allocate(orderid, sku, qty=3)
        assert response.status_code == 202

        response = self.client.get(f"/allocation/orders/{orderid}/")
        assert response.status_code == 200
        assert response.json() == [{"sku": sku, "batchref": earlybatch}]

    def test_unhappy_path_returns_400_and_error_message(self) -> None:
        unknown_sku, orderid = "unknown-sku", "order-2"
        response = self.post_to_allocate(orderid, unknown_sku, qty=20)
        assert response.status_code == 400
        assert response.json()["message"] == f"Invalid sku {unknown_sku}"

        response = self.client.get(f"/allocation/orders/{orderid}/")
        assert response.status_code == 404

    def test_out_of_stock_is_accepted_and_mails_the_buyers(self) -> None:
        from django.core import mail

        self.post_to_add_batch("b1", "LAMP", 1, None)
        assert self.post_to_allocate("o1", "LAMP", 5).status_code == 202
        assert self.client.get("/allocation/orders/o1/").status_code == 404
        assert [m.body for m in mail.outbox] == ["Out of stock for LAMP"]

    def test_bad_input_is_a_400_naming_the_problem_and_writes_nothing(self) -> None:
        add_batch("b1", "LAMP", 10)
        cases = [
            ({"orderid": "o1", "sku": "LAMP"}, "missing fields: qty"),
            ({"orderid": "o1", "sku": "LAMP", "qty": "two"}, "qty must be an integer, not 'two'"),
            ({"orderid": "o1", "sku": "LAMP", "qty": 0}, "qty must be at least 1, not 0"),
            ({"orderid": "o1", "sku": "NOPE", "qty": 1}, "Invalid sku NOPE"),
        ]
        for data, message in cases:
            response = self.client.post("/allocation/allocate/", data=data)
            assert (response.status_code, response.json()) == (400, {"message": message}), data
        response = self.client.post(
            "/allocation/allocate/", data="[1]", content_type="application/json"
        )
        assert response.json() == {"message": "the body must be a JSON object"}
        response = self.client.post(
            "/allocation/add_batch/", {"ref": "b2", "sku": "LAMP", "qty": 1, "eta": "soon"}
        )
        assert (response.status_code, response.json()) == (
            400,
            {"message": "eta must be a date (YYYY-MM-DD), not 'soon'"},
        )
        assert not models.Allocation.objects.exists()
        assert list(models.Batch.objects.values_list("reference", flat=True)) == ["b1"]

    def test_anonymous_writes_are_refused_with_401_and_write_nothing(self) -> None:
        add_batch("b1", "LAMP", 10)
        self.client.logout()
        for url, data in [
            ("/allocation/allocate/", {"orderid": "o1", "sku": "LAMP", "qty": 1}),
            ("/allocation/add_batch/", {"ref": "b2", "sku": "LAMP", "qty": 1}),
        ]:
            for kwargs in (
                {"data": data},
                {"data": json.dumps(data), "content_type": "application/json"},
            ):
                response = self.client.post(url, **kwargs)  # type: ignore[arg-type]
                assert (response.status_code, response.json()) == (
                    401,
                    {"error": "authentication required: log in, then POST with the CSRF token"},
                ), url
        assert allocations("o1", bootstrap.bootstrap().uow) == []
        assert list(models.Batch.objects.values_list("reference", flat=True)) == ["b1"]

    def test_allocate_without_the_csrf_token_is_refused_and_writes_nothing(self) -> None:
        # A cross-site form rides on the user's session cookie but cannot know the token.
        add_batch("b1", "LAMP", 10)
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.user)
        response = client.post("/allocation/allocate/", {"orderid": "o1", "sku": "LAMP", "qty": 1})
        assert response.status_code == 403
        response = client.post("/allocation/add_batch/", {"ref": "b2", "sku": "LAMP", "qty": 1})
        assert response.status_code == 403
        assert allocations("o1", bootstrap.bootstrap().uow) == []
        # With the token (read from the cookie, sent as the header) the same call allocates.
        client.get("/allocation/")
        token = client.cookies["csrftoken"].value
        response = client.post(
            "/allocation/allocate/",
            {"orderid": "o1", "sku": "LAMP", "qty": 1},
            headers={"X-CSRFToken": token},
        )
        assert (response.status_code, response.json()) == (202, {"message": "OK"})
        assert allocations("o1", bootstrap.bootstrap().uow) == [{"sku": "LAMP", "batchref": "b1"}]


class MetricsViewTests(TestCase):
    @override_settings(METRICS_REQUIRE_AUTH=True, METRICS_BEARER_TOKEN=TOKEN)
    def test_protected_metrics_answer_the_token_and_staff_only(self) -> None:
        anonymous = self.client.get("/metrics")
        assert (anonymous.status_code, anonymous["WWW-Authenticate"]) == (
            401,
            'Bearer realm="metrics"',
        )
        assert b"python_info" not in anonymous.content
        wrong = self.client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
        assert wrong.status_code == 401
        scraper = self.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scraper.status_code == 200
        self.client.force_login(User.objects.create_user("clerk"))
        assert self.client.get("/metrics").status_code == 401  # logged in, but not staff
        self.client.force_login(User.objects.create_user("ops", is_staff=True))
        assert self.client.get("/metrics").status_code == 200

    @override_settings(METRICS_REQUIRE_AUTH=True, METRICS_BEARER_TOKEN="")
    def test_an_empty_token_setting_never_matches(self) -> None:
        response = self.client.get("/metrics", headers={"Authorization": "Bearer "})
        assert response.status_code == 401

    def test_metrics_exposes_the_allocation_story_histograms(self) -> None:
        add_batch("b1", "LAMP", 10)
        bootstrap.bootstrap().handle(commands.Allocate("o1", "LAMP", 1))
        response = self.client.get("/metrics")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        body = response.content.decode()
        assert "# TYPE dddkit_stories_executions_latency_ms histogram" in body
        assert (
            'dddkit_stories_step_executions_latency_ms_count{service="allocation",'
            'status="completed",step_name="allocate_line",story_name="AllocateLine"}'
        ) in body

    def test_multiprocess_mode_exposes_the_samples_of_every_worker_process(self) -> None:
        # Another worker process observes a story; this process serves the scrape.
        worker = (
            "from prometheus_client import Histogram\n"
            "h = Histogram('dddkit_stories_executions_latency_ms', 'Story Execution Time',"
            " ['service', 'story_name', 'status'])\n"
            "h.labels('allocation', 'AllocateLine', 'completed').observe(7)\n"
        )
        with tempfile.TemporaryDirectory() as directory:
            env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": directory}
            subprocess.run([sys.executable, "-c", worker], env=env, check=True)
            with mock.patch.dict(os.environ, {"PROMETHEUS_MULTIPROC_DIR": directory}):
                body = self.client.get("/metrics").content.decode()
        assert (
            'dddkit_stories_executions_latency_ms_count{service="allocation",'
            'status="completed",story_name="AllocateLine"} 1.0'
        ) in body
        # Only the multiprocess directory is read: this process's own metrics are not mixed in.
        assert "python_info" not in body


class IndexPageTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = User.objects.create_user("clerk", password="pw")

    def test_anonymous_form_post_goes_to_login_and_writes_nothing(self) -> None:
        add_batch("b1", "LAMP", 10)
        response = self.client.post("/allocation/", {"orderid": "o1", "sku": "LAMP", "qty": "2"})
        assert (response.status_code, response["Location"]) == (
            302,
            "/admin/login/?next=/allocation/",
        )
        assert allocations("o1", bootstrap.bootstrap().uow) == []

    def test_page_lists_stock_and_the_read_model(self) -> None:
        add_batch("b1", "LAMP", 10)
        bootstrap.bootstrap().handle(commands.Allocate("o1", "LAMP", 3))
        with self.assertNumQueries(3):  # products, their batches, the read model
            response = self.client.get("/allocation/")
        body = response.content.decode()
        assert response.status_code == 200
        assert "<td>b1</td>" in body
        assert "<td>10</td>" in body and "<td>3</td>" in body
        assert '<a href="/allocation/orders/o1/">o1</a>' in body

    def test_form_allocates_and_redirects_with_a_message(self) -> None:
        add_batch("b1", "LAMP", 10)
        self.client.force_login(self.user)
        response = self.client.post(
            "/allocation/", {"orderid": "o1", "sku": "LAMP", "qty": "2"}, follow=True
        )
        assert response.redirect_chain == [("/allocation/", 302)]
        assert '<p class="success">Allocated to b1</p>' in response.content.decode()

    def test_form_errors_are_shown_and_write_nothing(self) -> None:
        add_batch("b1", "LAMP", 10)
        self.client.force_login(self.user)
        for qty, message in [
            ("0", "qty must be at least 1, not 0"),
            ("11", "Out of stock for LAMP"),
        ]:
            response = self.client.post(
                "/allocation/", {"orderid": "o1", "sku": "LAMP", "qty": qty}, follow=True
            )
            assert f'<p class="error">{message}</p>' in response.content.decode()
        assert allocations("o1", bootstrap.bootstrap().uow) == []
