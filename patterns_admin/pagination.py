"""Keyset ("seek") pagination for big, time-ordered tables.

``OFFSET`` pagination reads and throws away every row before the page, so page 20,000 of an
audit log is slow; ``COUNT(*)`` on every page is slow too. A keyset page instead starts right
after the last row the reader saw, named by a cursor ``"<microseconds>_<id>"`` taken from that
row's ``(timestamp, id)``, and the database seeks to it through the ``(-timestamp, -id)`` index:
every page costs the same, however deep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet

M = TypeVar("M", bound=Model)
#: Rows of a page: model instances, or the records of a store's own listing (event streams).
R = TypeVar("R")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidCursor(ValueError):
    """Raised for a cursor that is not ``"<microseconds>_<id>"``."""

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(
            f"Invalid page cursor {value!r}; "
            "expected '<microseconds>_<id>', e.g. '1700000000000000_42'"
        )


@dataclass(frozen=True)
class Cursor:
    """A position in a ``(-timestamp, -id)`` ordering: the row's timestamp and id."""

    timestamp: datetime
    id: int

    def encode(self) -> str:
        """The cursor as it appears in the query string."""
        delta = self.timestamp - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, value: str) -> Cursor:
        """Parse :meth:`encode`'s output; raise :class:`InvalidCursor` otherwise."""
        micros_text, sep, id_text = value.partition("_")
        try:
            if not sep:
                raise ValueError(value)
            micros, pk = int(micros_text), int(id_text)
            if pk < 0 or abs(micros) > 10**17:
                raise ValueError(value)
            timestamp = _EPOCH + timedelta(microseconds=micros)
        except (ValueError, OverflowError) as exc:
            raise InvalidCursor(value) from exc
        return cls(timestamp=timestamp, id=pk)

    @classmethod
    def of(cls, row: Model, field: str) -> Cursor:
        """The cursor of ``row`` in an ordering on ``field`` then ``pk``."""
        return cls(timestamp=getattr(row, field), id=int(row.pk))


@dataclass(frozen=True)
class KeysetPage(Generic[R]):
    """One page of rows, newest first, and the cursors of its neighbours."""

    rows: Sequence[R]
    per_page: int
    has_next: bool
    has_previous: bool
    next_cursor: str | None
    previous_cursor: str | None

    @classmethod
    def of_store(
        cls, rows: Sequence[R], per_page: int, older: object | None, newer: object | None
    ) -> KeysetPage[R]:
        """A page of the event store's keyset listings (``stream_page``, ``feed_page``): its
        ``older_cursor`` is the next page's cursor, ``newer_cursor`` the previous one's."""
        return cls(
            rows=rows,
            per_page=per_page,
            has_next=older is not None,
            has_previous=newer is not None,
            next_cursor=None if older is None else str(older),
            previous_cursor=None if newer is None else str(newer),
        )


def keyset_page(
    queryset: QuerySet[M],
    *,
    field: str = "created_at",
    per_page: int = 50,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> KeysetPage[M]:
    """Return the page of ``queryset`` ordered by ``(-field, -pk)``.

    ``before`` gives the page of rows older than the cursor (the "next" page), ``after`` the
    page of rows newer than it (the "previous" page), neither the first page. One query.
    """
    if before is not None and after is not None:
        raise ValueError("Pass at most one of before= and after=")
    lt, gt = f"{field}__lt", f"{field}__gt"
    if after is not None:
        # Newer rows: walk the index upwards from the cursor, then show them newest first.
        newer = queryset.filter(**{f"{field}__gte": after.timestamp}).filter(
            Q(**{gt: after.timestamp}) | Q(**{field: after.timestamp, "pk__gt": after.id})
        )
        found = list(newer.order_by(field, "pk")[: per_page + 1])
        if len(found) <= per_page:
            # Back at the top: show a full first page rather than a short one.
            return keyset_page(queryset, field=field, per_page=per_page)
        rows = list(reversed(found[:per_page]))
        has_previous, has_next = len(found) > per_page, True
    else:
        page_qs: QuerySet[M] = queryset
        if before is not None:
            # The redundant "<=" bound lets the database seek the index to the cursor.
            page_qs = page_qs.filter(**{f"{field}__lte": before.timestamp}).filter(
                Q(**{lt: before.timestamp}) | Q(**{field: before.timestamp, "pk__lt": before.id})
            )
        found = list(page_qs.order_by(f"-{field}", "-pk")[: per_page + 1])
        rows = found[:per_page]
        has_previous, has_next = before is not None, len(found) > per_page
    return KeysetPage(
        rows=rows,
        per_page=per_page,
        has_next=has_next and bool(rows),
        has_previous=has_previous and bool(rows),
        next_cursor=Cursor.of(rows[-1], field).encode() if rows else None,
        previous_cursor=Cursor.of(rows[0], field).encode() if rows else None,
    )


def cursor_param(params: Any, name: str) -> Cursor | None:
    """Decode the cursor in ``params[name]`` (a QueryDict), None when absent or empty."""
    value = params.get(name) or ""
    return Cursor.decode(value) if value else None
