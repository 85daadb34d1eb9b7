"""Table and filters of the event-stream list (one row per aggregate, from ``EventStream``)."""

from __future__ import annotations

from typing import Any

import django_filters
import django_tables2 as tables
from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse

from patterns_admin.tables import HtmxTable
from toolkit.models import EventStream


def stream_queryset() -> QuerySet[Any]:
    """Every stream, newest write first (the ``tk_es_updated`` index)."""
    return EventStream.objects.order_by("-updated_at", "-id")


def stored_aggregate_types() -> list[str]:
    """The distinct ``aggregate_type`` values of the stream table, by a loose index scan.

    A plain ``SELECT DISTINCT`` reads every entry of the type index (a million streams, a
    million entries); this recursive query jumps from one type to the next, one index probe
    per distinct type. It runs unchanged on PostgreSQL and SQLite.
    """
    table = connection.ops.quote_name(EventStream._meta.db_table)
    column = connection.ops.quote_name("aggregate_type")
    sql = (
        f"WITH RECURSIVE types(name) AS ("
        f" SELECT MIN({column}) FROM {table}"
        f" UNION ALL"
        f" SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > types.name)"
        f" FROM types WHERE types.name IS NOT NULL"
        f") SELECT name FROM types WHERE name IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def aggregate_type_choices() -> list[tuple[str, str]]:
    """Types of the streams stored and of the registered aggregates, sorted."""
    from toolkit.registry import aggregates

    names = set(stored_aggregate_types()) | set(aggregates)
    return [(name, name) for name in sorted(names)]


class EventStreamFilter(django_filters.FilterSet):  # type: ignore[misc]
    """Filter streams by aggregate type (exact) and aggregate id (prefix, index-friendly)."""

    aggregate_type = django_filters.ChoiceFilter(label="Type", choices=[], empty_label="any")
    aggregate_id = django_filters.CharFilter(
        label="Aggregate id starts with", lookup_expr="startswith", max_length=255
    )

    class Meta:
        model = EventStream
        fields = ["aggregate_type", "aggregate_id"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["aggregate_type"].extra["choices"] = aggregate_type_choices()


class EventStreamTable(HtmxTable):
    """Aggregates with type, id, event count and last write.

    Rows render through ``streams/stream_rows.html`` in one pass (``row_template_name``):
    django-tables2's cell-by-cell rendering was most of the page's time at 50 rows.
    """

    aggregate_type = tables.Column(verbose_name="Type")
    aggregate_id = tables.Column(verbose_name="Aggregate id")
    last_sequence = tables.Column(
        verbose_name="Events / last sequence", attrs={"td": {"class": "num"}}
    )
    updated_at = tables.DateTimeColumn(verbose_name="Last event", format="Y-m-d H:i:s")

    class Meta(HtmxTable.Meta):
        empty_text = "No event stream matches."
        orderable = False

    row_template_name = "patterns_admin/streams/stream_rows.html"

    def prepare_records(self, records: list[Any]) -> None:
        for record in records:
            record.panel_url = reverse("patterns_admin:stream-detail", args=[record.aggregate_id])
