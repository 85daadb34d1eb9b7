"""The CQRS page: statuses, page vs fragment, permission-checked and audited actions."""

from __future__ import annotations

import json
from decimal import Decimal

from django.contrib.auth.models import User
from django.test import Client, TestCase
from django.urls import reverse

from demo.replication.models import Product, ProductReplica
from patterns_admin.models import PanelActionLog
from tests.patterns_admin.conftest import make_staff
from toolkit.cqrs.consumer import consume_body
from toolkit.cqrs.models import CqrsDeadLetter, CqrsOutbox
from toolkit.cqrs.transport.inprocess import InProcessTransport

URL = reverse("patterns_admin:cqrs-list")
RESYNC = reverse("patterns_admin:cqrs-resync")
REPLAY = reverse("patterns_admin:cqrs-replay")


class CqrsPageTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.viewer = make_staff("viewer")
        cls.operator = make_staff("operator", "manage_cqrs")

    def setUp(self) -> None:
        InProcessTransport.clean_connection()
        self.addCleanup(InProcessTransport.clean_connection)
        with self.captureOnCommitCallbacks(execute=True):
            self.product = Product.objects.create(sku="P", name="Pen", price=Decimal("1.00"))
        with self.captureOnCommitCallbacks(execute=True):
            self.product.stock = 4
            self.product.save()

    def login(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def test_page_lists_masters_replicas_revisions_and_counts(self) -> None:
        consume_body(b"garbage")
        response = self.login(self.viewer).get(URL)
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
        html = response.content.decode()
        assert '<tr id="master-product">' in html
        assert f'r1 <span class="muted">(#{self.product.pk})</span>' in html
        assert '<tr id="replica-product">' in html and '<tr id="replica-customer">' in html
        assert "1 dead letter with no replica model" in html
        assert "message body is not JSON" in html
        assert "needs permission" in html and "Resync all" not in html
        fragment = self.login(self.viewer).get(URL, headers={"HX-Request": "true"})
        assert fragment.content.decode().strip().startswith('<section id="results"')

    def test_operator_sees_the_actions(self) -> None:
        html = self.login(self.operator).get(URL).content.decode()
        assert "Resync all" in html and "needs permission" not in html

    def test_resync_needs_the_permission_and_changes_nothing(self) -> None:
        ProductReplica.objects.all().delete()
        response = self.login(self.viewer).post(RESYNC, {"cqrs_id": "product", "scope": "all"})
        assert response.status_code == 403
        assert "patterns_admin.manage_cqrs" in response.content.decode()
        assert not ProductReplica.objects.exists()
        assert not PanelActionLog.objects.exclude(action="refused").exists()

    def test_resync_needs_csrf(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.operator)
        response = client.post(RESYNC, {"cqrs_id": "product", "scope": "all"})
        assert response.status_code == 403

    def test_resync_all_resends_and_is_audited(self) -> None:
        ProductReplica.objects.all().delete()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.login(self.operator).post(
                RESYNC, {"cqrs_id": "product", "scope": "all"}
            )
        assert response.status_code == 302
        assert response["Location"] == URL
        assert ProductReplica.objects.get(pk=self.product.pk).stock == 4
        log = PanelActionLog.objects.get()
        assert (log.user, log.action, log.target, log.detail, log.success) == (
            self.operator,
            "cqrs_resync",
            "cqrs:product",
            {"scope": "all", "synced": 1, "total": 1},
            True,
        )

    def test_resync_pending_publishes_the_outbox_over_htmx(self) -> None:
        CqrsOutbox.objects.create(
            cqrs_id="product",
            instance_pk=str(self.product.pk),
            signal_type="SYNC",
            revision=1,
            payload={
                "signal_type": "SYNC",
                "cqrs_id": "product",
                "instance_pk": self.product.pk,
                "instance_data": {**self.product.to_cqrs_dict(), "stock": 8},
            },
        )
        response = self.login(self.operator).post(
            RESYNC, {"cqrs_id": "product", "scope": "pending"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert response["HX-Trigger"] == '{"auditChanged": {}}'
        assert "Published 1 pending &#x27;product&#x27; message(s)." in response.content.decode()
        assert ProductReplica.objects.get(pk=self.product.pk).stock == 8
        assert not CqrsOutbox.objects.exists()

    def test_resync_rejects_bad_input_without_changes(self) -> None:
        client = self.login(self.operator)
        response = client.post(RESYNC, {"cqrs_id": "invoice", "scope": "all"})
        assert response.status_code == 400
        assert (
            "&#x27;invoice&#x27; is not a master CQRS_ID; available: "
            "&#x27;customer&#x27;, &#x27;product&#x27;." in response.content.decode()
        )
        response = client.post(RESYNC, {"cqrs_id": "product", "scope": "some"})
        assert response.status_code == 400
        assert not PanelActionLog.objects.exclude(action="refused").exists()

    def test_replay_dead_letter_applies_it_and_is_audited(self) -> None:
        # An id no master row has (PostgreSQL sequences outlive test rollbacks).
        other = self.product.pk + 1000
        body = {
            "signal_type": "SAVE",
            "cqrs_id": "product",
            "instance_pk": other,
            "expires": "2000-01-01T00:00:00+00:00",
            "instance_data": {**self.product.to_cqrs_dict(), "id": other, "sku": "Q"},
        }
        consume_body(json.dumps(body))
        letter = CqrsDeadLetter.objects.get()
        assert self.login(self.viewer).post(REPLAY, {"dead_letter": letter.pk}).status_code == 403
        response = self.login(self.operator).post(REPLAY, {"dead_letter": letter.pk})
        assert response.status_code == 302
        assert ProductReplica.objects.get(pk=other).sku == "Q"
        letter.refresh_from_db()
        assert letter.replayed_at is not None
        log = PanelActionLog.objects.exclude(action="refused").get()
        assert (log.action, log.target, log.detail, log.success) == (
            "cqrs_replay",
            f"dead_letter:{letter.pk}",
            {"applied": 1},
            True,
        )

    def test_replay_unknown_dead_letter_is_404(self) -> None:
        response = self.login(self.operator).post(REPLAY, {"dead_letter": "999"})
        assert response.status_code == 404
        assert "No dead letter to replay with id &#x27;999&#x27;." in response.content.decode()
        assert not PanelActionLog.objects.exclude(action="refused").exists()

    def test_replay_refuses_ids_that_are_not_plain_digits_with_a_400(self) -> None:
        # str.isdigit() accepts "²" and int() then raised; 5000 digits overflowed the column.
        for raw, shown in [
            ("²", "'²'"),
            ("-1", "'-1'"),
            ("", "''"),
            ("9" * 5000, repr("9" * 40 + "…")),
        ]:
            for headers in ({}, {"HX-Request": "true"}):
                response = self.login(self.operator).post(
                    REPLAY, {"dead_letter": raw}, headers=headers
                )
                assert response.status_code == 400, raw[:10]
                text = response.content.decode().replace("&#x27;", "'")
                assert (
                    f"Invalid dead letter {shown}: give its id (1 to 18 digits 0-9) or 'all'."
                    in text
                )
        assert not PanelActionLog.objects.exists()

    def test_failed_resync_is_reported_and_audited_as_failure(self) -> None:
        from unittest import mock

        with mock.patch("toolkit.cqrs.sync.sync_queryset", side_effect=RuntimeError("db gone")):
            response = self.login(self.operator).post(
                RESYNC, {"cqrs_id": "product", "scope": "all"}, follow=True
            )
        assert "Resync of &#x27;product&#x27; failed: RuntimeError: db gone" in (
            response.content.decode()
        )
        log = PanelActionLog.objects.get()
        assert (log.action, log.detail, log.success) == (
            "cqrs_resync",
            {"scope": "all", "error": "RuntimeError: db gone"},
            False,
        )
