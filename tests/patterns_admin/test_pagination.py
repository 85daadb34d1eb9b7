"""Keyset pagination: cursors and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase

from patterns_admin.pagination import Cursor, InvalidCursor, keyset_page
from tests.patterns_admin.conftest import make_transitions
from toolkit.models import StateTransitionAudit


def test_cursor_round_trips_to_the_microsecond() -> None:
    cursor = Cursor(datetime(2026, 11, 23, 16, 0, 1, 123456, tzinfo=UTC), 42)
    assert cursor.encode() == "1795449601123456_42"
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize(
    "value", ["", "abc", "12", "12_", "_5", "1_-5", "1.5_2", "9" * 30 + "_1"], ids=repr
)
def test_invalid_cursor_names_the_value_and_the_shape(value: str) -> None:
    with pytest.raises(InvalidCursor) as info:
        Cursor.decode(value)
    assert info.value.args == (
        f"Invalid page cursor {value!r}; expected '<microseconds>_<id>', "
        "e.g. '1700000000000000_42'",
    )
    assert info.value.value == value


class KeysetPageTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        base = datetime(2026, 1, 1, tzinfo=UTC)
        # Pairs of rows share a timestamp, so the id has to break the ties.
        make_transitions(25, created_at=lambda i: base + timedelta(seconds=i // 2))
        cls.order = list(
            StateTransitionAudit.objects.order_by("-created_at", "-id").values_list(
                "object_id", flat=True
            )
        )

    def test_walks_forward_and_back_without_gaps_or_repeats(self) -> None:
        qs = StateTransitionAudit.objects.all()
        seen: list[str] = []
        page = keyset_page(qs, per_page=7)
        assert not page.has_previous
        pages = [page]
        while True:
            seen.extend(r.object_id for r in page.rows)
            if not page.has_next:
                break
            assert page.next_cursor is not None
            page = keyset_page(qs, per_page=7, before=Cursor.decode(page.next_cursor))
            assert page.has_previous
            pages.append(page)
        assert seen == self.order
        assert [len(p.rows) for p in pages] == [7, 7, 7, 4]
        previous = pages[2]
        assert previous.previous_cursor is not None
        back = keyset_page(qs, per_page=7, after=Cursor.decode(previous.previous_cursor))
        assert [r.object_id for r in back.rows] == self.order[7:14]
        assert back.has_next and back.has_previous

    def test_going_back_to_the_top_gives_a_full_first_page(self) -> None:
        qs = StateTransitionAudit.objects.all()
        second = keyset_page(
            qs, per_page=7, before=Cursor.decode(keyset_page(qs, per_page=7).next_cursor or "")
        )
        top = keyset_page(qs, per_page=10, after=Cursor.decode(second.previous_cursor or ""))
        assert [r.object_id for r in top.rows] == self.order[:10]
        assert not top.has_previous

    def test_one_query_per_page(self) -> None:
        with self.assertNumQueries(1):
            keyset_page(StateTransitionAudit.objects.all(), per_page=5)

    def test_before_and_after_together_are_refused(self) -> None:
        cursor = Cursor(datetime(2026, 1, 1, tzinfo=UTC), 1)
        with pytest.raises(ValueError, match="Pass at most one of before= and after="):
            keyset_page(StateTransitionAudit.objects.all(), before=cursor, after=cursor)

    def test_empty_queryset_has_no_neighbours(self) -> None:
        page = keyset_page(StateTransitionAudit.objects.none())
        assert (list(page.rows), page.has_next, page.has_previous, page.next_cursor) == (
            [],
            False,
            False,
            None,
        )
