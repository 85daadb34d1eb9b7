"""django-tables2 tables of the panel and the one way they are paginated.

Every table subclasses :class:`HtmxTable`, so they all render through
``patterns_admin/partials/table.html`` (sortable headers, pagination and page size links that
carry both ``href`` and ``hx-get``). :func:`build_table` reads the sort, page, cursor and
page size from the query string, validates them, and paginates without ``COUNT(*)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import django_tables2 as tables
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django_tables2.paginators import LazyPaginator

from patterns_admin.masking import Masker
from patterns_admin.pagination import InvalidCursor, KeysetPage, cursor_param, keyset_page

#: Page sizes offered under every table.
PER_PAGE_CHOICES: tuple[int, ...] = (25, 50, 100, 200)
DEFAULT_PER_PAGE = 50
#: Seconds between two refreshes of a list's newest page (new rows appear without a reload).
LIVE_INTERVAL = 10
#: The largest page number accepted in ``?page=`` (deeper pages use cursors).
MAX_PAGE = 100_000

T = TypeVar("T", bound="HtmxTable")


def _unchanged(value: Any) -> Any:
    return value


class HtmxTable(tables.Table):  # type: ignore[misc]
    """Base of every panel table: shared template, htmx target and page sizes.

    ``htmx_target`` is the CSS selector of the element the table's links replace (the page's
    ``{% partialdef results %}`` section by default). ``keyset`` is set by :func:`build_table`
    when the page was cut with a cursor rather than a page number.
    """

    htmx_target: str = "#results"
    per_page_choices: Sequence[int] = PER_PAGE_CHOICES
    keyset: KeysetPage[Any] | None = None
    #: A template that renders the ``<tr>`` of every record of the page at once (context:
    #: ``table``, ``records``, ``shown``), instead of django-tables2's cell-by-cell rendering,
    #: which costs ~0.1 ms per cell. Set it on big tables; the columns still define the
    #: headers, sorting and exports, and the template must follow their order.
    row_template_name: str | None = None
    #: What values that may hold sensitive fields go through before they are shown
    #: (:func:`patterns_admin.masking.masker_for`); the identity unless a view sets it.
    mask: Masker = staticmethod(_unchanged)

    class Meta:
        template_name = "patterns_admin/partials/table.html"
        attrs = {"class": "panel-table"}
        empty_text = "Nothing here yet."

    def get_htmx_target(self) -> str:
        """The CSS selector that the table's links swap."""
        return self.htmx_target

    @property
    def page_records(self) -> list[Any]:
        """The records of the current page (keyset page, paginator page, or every row)."""
        if self.keyset is not None:
            records = list(self.keyset.rows)
        else:
            rows = self.page.object_list if hasattr(self, "page") else self.rows
            records = [row.record for row in rows]
        self.prepare_records(records)
        return records

    def prepare_records(self, records: list[Any]) -> None:
        """Attach what ``row_template_name`` shows but a template cannot compute (URLs, …)."""

    @property
    def shown(self) -> set[str]:
        """Names of the visible columns (``exclude`` removed), for ``row_template_name``."""
        return {column.name for column in self.columns}


def _parse_positive(params: Any, name: str, default: int, errors: list[str]) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors.append(f"{name}: {raw!r} is not a whole number.")
        return default
    if value < 1:
        errors.append(f"{name}: {raw!r} must be 1 or more.")
        return default
    return value


def table_errors(
    request: HttpRequest, table_class: type[HtmxTable], *, cursors: bool = True
) -> list[str]:
    """Problems with the table's query parameters (sort, page, per_page, before/after).

    ``cursors=False`` leaves ``before``/``after`` to whoever cuts the page (the event store
    checks its own stream cursors), checking only that they are not both given.
    """
    params = request.GET
    errors: list[str] = []
    per_page = _parse_positive(params, "per_page", DEFAULT_PER_PAGE, errors)
    if not errors and per_page not in table_class.per_page_choices:
        choices = ", ".join(str(c) for c in table_class.per_page_choices)
        errors.append(f"per_page: {params.get('per_page')!r} is not one of {choices}.")
    page = _parse_positive(params, "page", 1, errors)
    if page > MAX_PAGE:
        errors.append(f"page: {page} is beyond the last page number accepted ({MAX_PAGE}).")
    sort = params.get("sort") or ""
    if sort:
        orderable = sorted(
            name
            for name, column in table_class.base_columns.items()
            if column.orderable is not False
        )
        if sort.removeprefix("-") not in orderable:
            choices = ", ".join(repr(n) for n in orderable)
            errors.append(f"sort: {sort!r} is not a column you can sort by; choices: {choices}.")
    for name in ("before", "after") if cursors else ():
        try:
            cursor_param(params, name)
        except InvalidCursor as exc:
            errors.append(f"{name}: {exc}")
    if params.get("before") and params.get("after"):
        errors.append("before and after cannot be used together.")
    return errors


def build_table(
    request: HttpRequest,
    table_class: type[T],
    queryset: QuerySet[Any],
    *,
    keyset_field: str | None = "created_at",
    **table_kwargs: Any,
) -> tuple[T, list[str]]:
    """Make, sort and paginate ``table_class`` over ``queryset`` from the query string.

    Returns the table and the errors found in its query parameters; with errors the table is
    empty. Without ``?sort=`` and with a ``keyset_field``, pages are cut by cursor
    (``?before=`` / ``?after=``, see :mod:`patterns_admin.pagination`); a sorted table uses
    :class:`~django_tables2.paginators.LazyPaginator` (no ``COUNT(*)``).
    """
    errors = table_errors(request, table_class)
    if errors:
        return table_class(queryset.none(), **table_kwargs), errors
    params = request.GET
    per_page = int(params.get("per_page") or DEFAULT_PER_PAGE)
    wanted = int(params.get("page") or 1)
    if keyset_field is not None and not params.get("sort"):
        if wanted != 1:
            # Unsorted pages are cut by cursor: a page number would silently mean page 1.
            error = (
                f"page: {wanted} is not used without a sort; "
                "page with the Older / Newer links (before= / after=)."
            )
            return table_class(queryset.none(), **table_kwargs), [error]
        page: KeysetPage[Model] = keyset_page(
            queryset,
            field=keyset_field,
            per_page=per_page,
            before=cursor_param(params, "before"),
            after=cursor_param(params, "after"),
        )
        table = table_class(list(page.rows), **table_kwargs)
        table.keyset = page
        return table, []
    table = table_class(queryset, **table_kwargs)
    tables.RequestConfig(
        request, paginate={"paginator_class": LazyPaginator, "per_page": per_page}
    ).configure(table)
    if table.page.number != wanted:
        # django-tables2 falls back to another page for one out of range: say so instead.
        error = f"page: {wanted} is beyond the last page ({table.page.number})."
        return table_class(queryset.none(), **table_kwargs), [error]
    return table, []
