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
from django.http import HttpRequest
from django.urls import reverse

from patterns_admin import selectors
from patterns_admin.listing import (
    ListNavigation,
    Period,
    PeriodField,
    date_hierarchy,
    make_facet,
)
from patterns_admin.selectors import Count
from patterns_admin.tables import HtmxTable
from toolkit.eventsourcing.event_store import EventStore
from toolkit.eventsourcing.store import StreamInfo


def aggregate_type_choices(store: EventStore) -> list[tuple[str, str]]:
    """Types of the streams stored and of the registered aggregates, sorted."""
    from toolkit.registry import aggregates

    names = set(store.aggregate_types()) | set(aggregates)
    return [(name, name) for name in sorted(names)]


class EventStreamFilterForm(forms.Form):
    """Filter streams by aggregate type (one of the known types), aggregate id prefix (the
    search box) and, on a store that lists streams by time, the date of the last event (the
    date hierarchy's ``?date=YYYY[-MM[-DD]]``).

    An unknown type is a form error (the page answers 400 with the message), not an empty
    list, so a mistyped bookmark says what is wrong.
    """

    aggregate_type = forms.ChoiceField(label="Type", required=False)
    aggregate_id = forms.CharField(
        label="Search",
        required=False,
        max_length=255,
        strip=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "aggregate id starts with"}),
    )
    date = PeriodField(label="Last event", required=False)

    def __init__(self, *args: Any, store: EventStore, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = store
        field = cast(forms.ChoiceField, self.fields["aggregate_type"])
        #: The known aggregate types: the type facet's options.
        self.kinds = [value for value, _ in aggregate_type_choices(store)]
        field.choices = [("", "any"), *[(kind, kind) for kind in self.kinds]]
        if store.streams_by_time:
            self.fields["date"].widget.attrs["placeholder"] = "YYYY[-MM[-DD]]"
        else:
            # Redis scores its stream listing by position: no filter by time (docs/panel.md).
            del self.fields["date"]

    def listing_filters(self) -> dict[str, Any]:
        """The cleaned values as :meth:`EventStore.stream_page` keyword arguments."""
        data = self.cleaned_data if self.is_bound else {}
        filters: dict[str, Any] = {
            "aggregate_type": data.get("aggregate_type") or None,
            "id_prefix": data.get("aggregate_id") or None,
        }
        period: Period | None = data.get("date")
        if period is not None:
            filters["since"], filters["until"] = period.bounds()
        return filters

    def navigation(self, request: HttpRequest) -> ListNavigation:
        """The result count, the type facet's counts (over the search and date) and the date
        hierarchy, read through the store: one :meth:`~EventStore.count_streams` (None on a
        store that cannot count: the facet then shows no numbers) and, by time, one
        :meth:`~EventStore.stream_span` (on Django two index seeks, or for an id prefix one read
        of its few streams)."""
        filters = self.listing_filters()
        chosen = filters.pop("aggregate_type")
        field = cast(forms.ChoiceField, self.fields["aggregate_type"])
        kinds = self.kinds
        limit = selectors.EXACT_COUNT_LIMIT  # read here, so a test can lower it
        counted = self.store.count_streams([None, *kinds], **filters, limit=limit)
        counts: list[Count | None] = (
            [None] * (len(kinds) + 1)
            if counted is None
            else [Count(c.value, c.exact, lower_bound=not c.exact) for c in counted]
        )
        total = counts[kinds.index(chosen) + 1] if chosen in kinds else counts[0]
        facet = make_facet(
            request,
            "aggregate_type",
            field,
            [(kind, kind, count) for kind, count in zip(kinds, counts[1:], strict=True)],
            chosen or "",
        )
        hierarchy = None
        if "date" in self.fields:
            period: Period | None = self.cleaned_data.get("date") if self.is_bound else None
            span = self.store.stream_span(aggregate_type=chosen, **filters)
            hierarchy = date_hierarchy(request, period, span)
        return ListNavigation(total, [facet], hierarchy)


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
