"""What makes a panel list as good as Django admin's changelist: facet counts on the choice
filters, a search box and a date hierarchy.

They are FilterSet features (:class:`ListFilterSet`), so every list built on one gets them
by naming its fields, as a ``ModelAdmin`` names ``list_filter``, ``search_fields`` and
``date_hierarchy``:

.. code-block:: python

    class TransitionAuditFilter(ListFilterSet):
        faceted_fields = ("model", "transition")
        search_fields = ("object_id", "reason__icontains")
        date_hierarchy = "created_at"

Counting stays cheap on big tables: every facet option is counted by
:func:`patterns_admin.selectors.result_counts` (the result exact up to 10,000, a searched
result and each option up to 1,000, the planner's estimate above on PostgreSQL, all of a list
in one query), and the date hierarchy reads only the first and last matching timestamps (two
index seeks) and offers the periods between them, as Django admin does with
``date_hierarchy_drilldown = False``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from patterns_admin import selectors
from patterns_admin.querystring import filter_change_url
from patterns_admin.selectors import Count, result_counts

#: At most this many related rows (users, say) a search through a foreign key matches.
MAX_RELATED = 100
#: The longest search accepted (a longer one is a form error, so the page answers 400).
MAX_SEARCH = 200
# ASCII digits only: "\d" alone would take "２０２６" (full-width) for 2026.
_PERIOD = re.compile(r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?", re.ASCII)


@dataclass(frozen=True)
class Period:
    """A year, a month or a day of the date hierarchy, as ``?date=2026``, ``2026-12`` or
    ``2026-12-04``, in the current time zone."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"2026-12"`` → ``Period(2026, 12)``; ``ValueError`` with the reason otherwise."""
        match = _PERIOD.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not a year, month or day (YYYY, YYYY-MM or YYYY-MM-DD)")
        year = int(match["year"])
        month = int(match["month"]) if match["month"] else None
        day = int(match["day"]) if match["day"] else None
        try:
            date(max(year, 1), month or 1, day or 1)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a date: {exc}") from None
        if year < 1:
            raise ValueError(f"{text!r} is not a date: year 0 does not exist")
        return cls(year, month, day)

    @property
    def level(self) -> str:
        """``"year"``, ``"month"`` or ``"day"``."""
        return "day" if self.day else "month" if self.month else "year"

    def __str__(self) -> str:
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    @property
    def label(self) -> str:
        """How the hierarchy shows it: ``2026``, ``December 2026``, ``4 December 2026``."""
        if self.day and self.month:
            return f"{self.day} {calendar.month_name[self.month]} {self.year}"
        if self.month:
            return f"{calendar.month_name[self.month]} {self.year}"
        return str(self.year)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as ``[start, end)`` aware datetimes in the current time zone."""
        tz = timezone.get_current_timezone()
        start = date(self.year, self.month or 1, self.day or 1)
        if self.day:
            end = start + timedelta(days=1)
        elif self.month:
            end = date(self.year + (self.month == 12), self.month % 12 + 1, 1)
        else:
            end = date(self.year + 1, 1, 1)
        return (
            datetime.combine(start, datetime.min.time(), tzinfo=tz),
            datetime.combine(end, datetime.min.time(), tzinfo=tz),
        )

    def parent(self) -> Period | None:
        """The period one level up (a day's month, a month's year), or None for a year."""
        if self.day:
            return Period(self.year, self.month)
        if self.month:
            return Period(self.year)
        return None


class PeriodField(forms.CharField):
    """A :class:`Period` typed as ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""

    def to_python(self, value: Any) -> Period | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return Period.parse(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class PeriodFilter(django_filters.Filter):  # type: ignore[misc]
    """``?date=`` of the date hierarchy: the rows of that year, month or day."""

    field_class = PeriodField

    def filter(self, qs: QuerySet[Any], value: Period | None) -> QuerySet[Any]:
        if value is None:
            return qs
        start, end = value.bounds()
        # A range, not __year/__month: it seeks the (… , -created_at) indexes.
        return qs.filter(**{f"{self.field_name}__gte": start, f"{self.field_name}__lt": end})


@dataclass(frozen=True)
class FacetOption:
    """One value of a facet: its label, how many rows choosing it gives, the link to it."""

    value: str
    label: str
    #: None when the list's source cannot count (the Redis event store by time, for one).
    count: Count | None
    url: str
    selected: bool


@dataclass(frozen=True)
class Facet:
    """A choice filter with its options' counts over what the other filters keep."""

    name: str
    label: str
    options: list[FacetOption]
    any_url: str
    selected: bool


@dataclass(frozen=True)
class PeriodLink:
    """One period the hierarchy offers, with the link that shows it."""

    period: Period
    url: str


@dataclass(frozen=True)
class DateHierarchy:
    """Where the list stands in the date hierarchy and where it can go from there."""

    current: Period | None
    crumbs: list[PeriodLink]
    all_url: str
    periods: list[PeriodLink]


@dataclass(frozen=True)
class ListNavigation:
    """What a list shows around its table: the result count, facets and date hierarchy."""

    count: Count | None
    facets: list[Facet]
    hierarchy: DateHierarchy | None


class ListFilterSet(django_filters.FilterSet):  # type: ignore[misc]
    """A FilterSet with facets, a search box and a date hierarchy.

    Set :attr:`faceted_fields`, :attr:`search_fields` and :attr:`date_hierarchy`; the search
    box is the ``q`` filter and the date hierarchy the ``date`` filter (left out when their
    attribute is empty).
    """

    #: Choice filters whose options show how many rows each would give (Django admin's facets).
    faceted_fields: tuple[str, ...] = ()
    #: Lookups that ``?q=`` searches, OR-ed; a bare field name means ``iexact``.
    search_fields: tuple[str, ...] = ()
    #: The date field that ``?date=`` drills into (year → month → day), or ``""``.
    date_hierarchy: str = ""

    q = django_filters.CharFilter(label="Search", method="filter_search", max_length=MAX_SEARCH)
    date = PeriodFilter(label="Date")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._related_keys: dict[tuple[str, str], list[Any]] = {}
        if self.search_fields:
            self.form.fields["q"].widget.attrs.update(
                {"type": "search", "placeholder": self.search_help()}
            )
        else:
            del self.filters["q"], self.form.fields["q"]
        if self.date_hierarchy:
            self.filters["date"].field_name = self.date_hierarchy
            self.form.fields["date"].widget.attrs["placeholder"] = "YYYY[-MM[-DD]]"
        else:
            del self.filters["date"], self.form.fields["date"]

    def searching(self) -> bool:
        """Whether the list is searched (a valid, non-empty ``?q=``)."""
        if not self.search_fields or not self.is_bound or not self.is_valid():
            return False
        return bool(str(self.form.cleaned_data.get("q") or "").strip())

    def search_help(self) -> str:
        """What the search box searches, shown as its placeholder."""
        names = [lookup.split("__")[0].replace("_", " ") for lookup in self.search_fields]
        return ", ".join(dict.fromkeys(names))

    def suggestions(self) -> dict[str, list[str]]:
        """Known values per field, offered as ``<datalist>`` hints (any value still works)."""
        return {}

    def get_facet_choices(self, name: str) -> list[tuple[str, str]]:
        """The options of facet ``name``: a choice field's choices, else its suggestions."""
        field = self.form.fields[name]
        choices = getattr(field, "choices", None)
        if choices is not None:
            return [(str(value), str(label)) for value, label in choices if value != ""]
        return [(value, value) for value in self.suggestions().get(name, [])]

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Rows where any :attr:`search_fields` lookup matches ``value``.

        A lookup through a foreign key (``user__username``) is read first, as the few keys
        it matches (one query per search, shared with the facets' counts), and becomes
        ``user_id IN (…)``: neither a join nor a subquery, which PostgreSQL cannot combine
        with the other branches' indexes, so every branch of the OR is answered by an index
        of the list's own table (``toolkit`` migration 0008)."""
        text = value.strip()
        if not text:
            return queryset
        condition = Q()
        for lookup in self.search_fields:
            condition |= self._search_condition(queryset.model, lookup, text)
        return queryset.filter(condition)

    def _search_condition(self, model: Any, lookup: str, text: str) -> Q:
        """``lookup`` (a bare field means ``iexact``) matching ``text``; through a foreign key,
        ``<fk>__in`` the keys of the related rows that match (at most :data:`MAX_RELATED`)."""
        *path, last = lookup.split("__")
        if last in _LOOKUPS and path:
            operator = last
        else:
            path, operator = [*path, last], "iexact"
        if len(path) > 1:
            field = model._meta.get_field(path[0])
            if field.many_to_one:
                key = (lookup, text)
                if key not in self._related_keys:
                    related = field.related_model
                    inner = Q(**{"__".join([*path[1:], operator]): text})
                    found = related._default_manager.filter(inner).values_list("pk", flat=True)
                    self._related_keys[key] = list(found[:MAX_RELATED])
                return Q(**{f"{path[0]}__in": self._related_keys[key]})
        return Q(**{"__".join([*path, operator]): text})

    def _others(self, *without: str) -> Any:
        """This FilterSet without the named filters (what a facet counts over)."""
        data = self.data.copy() if self.is_bound else {}
        for name in without:
            data.pop(name, None)
        others = type(self)(data or None, queryset=self.queryset)
        others._related_keys = self._related_keys  # the search's related keys, read once
        return others

    def navigation(self, request: HttpRequest) -> ListNavigation:
        """The result count, :meth:`facets` and :meth:`hierarchy` of the filtered list, in two
        queries: every count in one (:func:`~patterns_admin.selectors.result_counts`), the
        date hierarchy's first and last row in the other."""
        return ListNavigation(*self.facets(request, count_too=True), self.hierarchy(request))

    def facets(
        self, request: HttpRequest, *, count_too: bool = False
    ) -> tuple[Count | None, list[Facet]]:
        """Each faceted filter's options with their counts, over the rows the *other* filters
        keep (so choosing one gives that number), and their links, all counted in one query
        (with ``count_too``, also the filtered list's own count). The choice fields' option
        labels get the counts too ("failed (12)")."""
        plans: list[tuple[str, list[tuple[str, str]]]] = []
        querysets: list[QuerySet[Any]] = []
        for name in self.faceted_fields:
            others = self._others(name)
            if others.is_bound and not others.is_valid():
                continue
            options = self.get_facet_choices(name)
            plans.append((name, options))
            querysets.extend(self.filters[name].filter(others.qs, value) for value, _ in options)
        facet_limit = selectors.FACET_COUNT_LIMIT  # read here, so a test can lower it
        # A search's result is counted only to the facets' limit: a search that is not
        # selective (one row in three) would otherwise read 3 x EXACT_COUNT_LIMIT rows.
        total_limit = facet_limit if self.searching() else None
        counted = result_counts(
            [self.qs, *querysets] if count_too else querysets,
            limits=[total_limit] * count_too + [facet_limit] * len(querysets),
        )
        total = counted.pop(0) if count_too else None
        counts = iter(counted)
        chosen = self.data if self.is_bound else {}
        facets: list[Facet] = []
        for name, options in plans:
            field = self.form.fields[name]
            counted_options = [(value, label, next(counts)) for value, label in options]
            facets.append(
                make_facet(request, name, field, counted_options, str(chosen.get(name) or ""))
            )
        return total, facets

    def hierarchy(self, request: HttpRequest) -> DateHierarchy | None:
        """The date hierarchy over the rows the other filters keep: the chosen period's
        breadcrumbs and its sub-periods between the first and last matching row (two index
        seeks; a period without rows may be offered, as in Django admin without drilldown)."""
        if not self.date_hierarchy:
            return None
        cleaned = getattr(self.form, "cleaned_data", {})
        current: Period | None = cleaned.get("date")
        others = self._others("date")
        if others.is_bound and not others.is_valid():
            return None
        rows = others.qs
        field = self.date_hierarchy
        if current is not None:
            start, end = current.bounds()
            rows = rows.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        return date_hierarchy(request, current, _span(rows, field))


def _span(rows: QuerySet[Any], field: str) -> tuple[datetime, datetime] | None:
    """The first and last ``field`` of ``rows`` in one statement of two ordered ``LIMIT 1``
    subqueries, each a seek at one end of the ``field`` index. Not ``MIN`` / ``MAX``: over a
    list queryset with annotations (the command log's undo status) Django aggregates a
    subquery of every matching row, which PostgreSQL then reads whole (a second at 1M rows)."""
    ends = {
        name: Subquery(rows.order_by(order, f"{sign}pk").values(field)[:1])
        for name, order, sign in (("first", field, ""), ("last", f"-{field}", "-"))
    }
    found = rows.model._default_manager.using(rows.db).annotate(**ends).values(*ends).first()
    if not found or found["first"] is None:
        return None
    return found["first"], found["last"]


def form_errors(form: forms.Form) -> list[str]:
    """The form's errors as ``"<label>: <message> (got '<value>')"`` lines."""
    lines: list[str] = []
    for name, found in form.errors.items():
        raw = form.data.get(name)
        got = f" (got {raw!r})" if raw not in (None, "") else ""
        label = form.fields[name].label if name in form.fields else name
        lines.extend(f"{label}: {message}{got}" for message in found)
    return lines


def make_facet(
    request: HttpRequest,
    name: str,
    field: forms.Field,
    options: Sequence[tuple[str, str, Count | None]],
    current: str,
) -> Facet:
    """The facet of filter ``name`` (form field ``field``) whose ``options`` are ``(value,
    label, count)`` (count None: the source cannot count), ``current`` the chosen value. A
    choice field's option labels get the counts too ("failed (12)")."""
    items = [
        FacetOption(
            value, label, count, filter_change_url(request, **{name: value}), value == current
        )
        for value, label, count in options
    ]
    choices = getattr(field, "choices", None)
    if choices is not None:
        field.choices = [  # type: ignore[attr-defined]
            ("", next(iter(choices))[1]),
            *[
                (item.value, item.label if item.count is None else f"{item.label} ({item.count})")
                for item in items
            ],
        ]
    return Facet(
        name, str(field.label), items, filter_change_url(request, **{name: None}), bool(current)
    )


def date_hierarchy(
    request: HttpRequest, current: Period | None, span: tuple[datetime, datetime] | None
) -> DateHierarchy:
    """The hierarchy at ``current`` (None: every date) whose rows span ``span`` (the first
    and last matching time within ``current``; None: no row): the breadcrumbs up to
    ``current`` and its sub-periods from the first to the last, as filter-change links."""
    crumbs: list[PeriodLink] = []
    step = current
    while step is not None:
        crumbs.insert(0, PeriodLink(step, filter_change_url(request, date=str(step))))
        step = step.parent()
    periods: list[PeriodLink] = []
    if span is not None and (current is None or current.level != "day"):
        first = timezone.localtime(span[0]).date()
        last = timezone.localtime(span[1]).date()
        periods = [
            PeriodLink(period, filter_change_url(request, date=str(period)))
            for period in _sub_periods(current, first, last)
        ]
    return DateHierarchy(current, crumbs, filter_change_url(request, date=None), periods)


_LOOKUPS = frozenset({"exact", "iexact", "contains", "icontains", "startswith", "istartswith"})


def _sub_periods(current: Period | None, first: date, last: date) -> list[Period]:
    """The periods one level below ``current`` (years when None) from ``first`` to ``last``."""
    if current is None:
        return [Period(year) for year in range(first.year, last.year + 1)]
    if current.month is None:
        return [Period(current.year, month) for month in range(first.month, last.month + 1)]
    return [Period(current.year, current.month, day) for day in range(first.day, last.day + 1)]
