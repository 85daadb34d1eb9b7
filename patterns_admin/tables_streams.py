"""Table and filter form of the event-stream list (one row per aggregate).

The rows come from the event store's stream listing
(:meth:`~toolkit.patterns.event_store.EventStore.stream_page`), never from its tables, so the
list works on every backend (``event_store_backend`` = django, redis or memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import django_tables2 as tables
from django import forms
from django.urls import reverse

from patterns_admin.tables import HtmxTable
from toolkit.eventsourcing.event_store import EventStore
from toolkit.eventsourcing.store import StreamInfo


def aggregate_type_choices(store: EventStore) -> list[tuple[str, str]]:
    """Types of the streams stored and of the registered aggregates, sorted."""
    from toolkit.registry import aggregates

    names = set(store.aggregate_types()) | set(aggregates)
    return [(name, name) for name in sorted(names)]


class EventStreamFilterForm(forms.Form):
    """Filter streams by aggregate type (one of the known types) and aggregate id prefix.

    An unknown type is a form error (the page answers 400 with the message), not an empty
    list, so a mistyped bookmark says what is wrong.
    """

    aggregate_type = forms.ChoiceField(label="Type", required=False)
    aggregate_id = forms.CharField(
        label="Aggregate id starts with", required=False, max_length=255, strip=False
    )

    def __init__(self, *args: Any, store: EventStore, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["aggregate_type"])
        field.choices = [("", "any"), *aggregate_type_choices(store)]

    def listing_filters(self) -> dict[str, str | None]:
        """The cleaned values as :meth:`EventStore.stream_page` keyword arguments."""
        data = self.cleaned_data if self.is_bound else {}
        return {
            "aggregate_type": data.get("aggregate_type") or None,
            "id_prefix": data.get("aggregate_id") or None,
        }


@dataclass
class StreamRow:
    """One stream as the list shows it, with the link to its page."""

    aggregate_id: str
    aggregate_type: str
    last_sequence: int
    updated_at: datetime
    panel_url: str = ""

    @classmethod
    def of(cls, info: StreamInfo) -> StreamRow:
        return cls(info.aggregate_id, info.aggregate_type, info.last_sequence, info.updated_at)


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
    updated_at = tables.DateTimeColumn(verbose_name="Last event", format="Y-m-d H:i:s T")

    class Meta(HtmxTable.Meta):
        empty_text = "No event stream matches."
        orderable = False

    row_template_name = "patterns_admin/streams/stream_rows.html"

    def prepare_records(self, records: list[Any]) -> None:
        for record in records:
            record.panel_url = reverse("patterns_admin:stream-detail", args=[record.aggregate_id])
