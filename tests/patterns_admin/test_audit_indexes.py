"""The audit log filtered by user and transition reads one index (toolkit migration 0009), for
its page and for its capped result count: at 1,000,000 rows the count scanned the table; the model
facet over a transition and a month reads another (migration 0010)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import TestCase

from patterns_admin.filters import TransitionAuditFilter
from tests.services import require_postgres_db
from toolkit.models import StateTransitionAudit


class UserTransitionIndexTests(TestCase):
    @pytest.mark.postgres
    def test_user_and_transition_are_both_index_conditions(self) -> None:
        require_postgres_db()  # EXPLAIN's wording is PostgreSQL's
        alice = User.objects.create_user("alice")
        # Many rows of alice's other transitions, then fresh statistics: on a tiny table the
        # user index alone costs the same as the composite one, and the planner's pick of the
        # two varied from run to run.
        StateTransitionAudit.objects.bulk_create(
            StateTransitionAudit(
                model="shop.order",
                object_id=str(n),
                machine="OrderMachine",
                transition="ship" if n == 1 else "pay",
                from_state="paid" if n == 1 else "pending",
                to_state="shipped" if n == 1 else "paid",
                user=alice,
            )
            for n in range(1, 2001)
        )
        filterset = TransitionAuditFilter(
            {"transition": "ship", "user": "alice"}, queryset=StateTransitionAudit.objects.all()
        )
        assert filterset.is_valid(), filterset.errors
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE toolkit_statetransitionaudit")
            # On a small table a scan is cheapest: leave the planner the indexes only.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            count_plan = filterset.qs.order_by().values("pk")[:1001].explain()
            page_plan = filterset.qs[:51].explain()
        for plan in (count_plan, page_plan):
            assert "tk_sta_user_transition" in plan, plan


class ModelTransitionIndexTests(TestCase):
    """The model facet of a transition and a month (toolkit migration 0010) is counted from one
    index: counted by a capped sequential scan, one request in ~100 read most of a 1,000,000-row
    table (the scan's synchronised start block lay past the matching rows)."""

    @pytest.mark.postgres
    def test_model_facet_over_transition_and_month_reads_the_index(self) -> None:
        require_postgres_db()  # EXPLAIN's wording is PostgreSQL's
        StateTransitionAudit.objects.bulk_create(
            StateTransitionAudit(
                model="shop.order" if n % 2 else "shop.invoice",
                object_id=str(n),
                machine="OrderMachine",
                transition="ship" if n % 3 == 0 else "pay",
                from_state="paid",
                to_state="shipped",
            )
            for n in range(1, 2001)
        )
        month = f"{StateTransitionAudit.objects.latest('created_at').created_at:%Y-%m}"
        filterset = TransitionAuditFilter(
            {"transition": "ship", "date": month}, queryset=StateTransitionAudit.objects.all()
        )
        assert filterset.is_valid(), filterset.errors
        # The queryset the facets count for the model option "shop.order".
        option = filterset.filters["model"].filter(filterset.qs, "shop.order")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE toolkit_statetransitionaudit")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            plan = option.order_by().values("pk")[:1001].explain()
        assert "tk_sta_model_transition" in plan, plan
