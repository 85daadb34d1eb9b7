"""Read-only queries of the panel (selectors): what the views show, nothing they decide.

Each returns a lazy ``QuerySet`` (or plain values) ready for a table, with the joins the
table needs (``select_related("user")``) so a page costs a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.timesince import timesince

#: Above this many rows (by the planner's estimate) the home page shows an estimate. An exact
#: ``COUNT(*)`` reads the whole table: ~1 ms at 10,000 rows, ~5 ms at 90,000 on every load of
#: the home page, so the line is drawn low.
EXACT_COUNT_LIMIT = 10_000
#: A facet option is counted exactly up to this many rows, then estimated: a list counts every
#: option of every facet on each load, and at 1,000,000 rows counting each up to 10,000 under
#: two filters cost 200 ms (issue 14's bench); 1,000 keeps every page under 100 ms.
FACET_COUNT_LIMIT = 1_000


def transition_audit_list() -> QuerySet[Any]:
    """Every state transition audit row, newest first, with its user."""
    from toolkit.models import StateTransitionAudit  # the toolkit app may not be ready at import

    return StateTransitionAudit.objects.select_related("user").order_by("-created_at", "-id")


def command_audit_list() -> QuerySet[Any]:
    """Every command audit row, newest first, with its user, the original it undoes, and
    ``is_undone`` / ``undo_row_id`` annotations (one subquery, no N+1)."""
    from toolkit.models import CommandAuditLog
    from toolkit.patterns.command import with_undo_status

    rows = CommandAuditLog.objects.select_related("user", "undo_of").order_by("-created_at", "-id")
    return with_undo_status(rows)


@dataclass(frozen=True)
class Count:
    """A row count: exact, the database's estimate, or (``lower_bound``) only known to
    exceed ``value - 1`` (a capped count on a database without a planner estimate)."""

    value: int
    exact: bool
    lower_bound: bool = False

    def __str__(self) -> str:
        """How a facet shows it: ``12``, ``≈12000`` (estimate) or ``10000+`` (lower bound)."""
        if self.exact:
            return str(self.value)
        return f"{self.value - 1}+" if self.lower_bound else f"≈{self.value}"


def table_counts(*models: type[Model]) -> list[Count]:
    """Count each model's rows without scanning a big table (two queries at most).

    On PostgreSQL a table the planner estimates above :data:`EXACT_COUNT_LIMIT` rows gets the
    estimate (``pg_class.reltuples``, kept fresh by autovacuum); smaller tables and other
    databases get an exact ``COUNT(*)``, all of them in one statement.
    """
    quote = connection.ops.quote_name
    tables = [model._meta.db_table for model in models]
    estimates: dict[str, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT relname, reltuples::bigint FROM pg_class WHERE oid = ANY(%s::regclass[])",
                [tables],
            )
            estimates = {
                name: int(value)
                for name, value in cursor.fetchall()
                if value is not None and int(value) > EXACT_COUNT_LIMIT
            }
        exact = [table for table in tables if table not in estimates]
        counted: dict[str, int] = {}
        if exact:
            selects = ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in exact)
            cursor.execute(f"SELECT {selects}")
            counted = dict(zip(exact, cursor.fetchone() or (), strict=True))
    return [
        Count(estimates[table], exact=False)
        if table in estimates
        else Count(int(counted[table]), exact=True)
        for table in tables
    ]


def result_count(queryset: QuerySet[Any], *, limit: int | None = None) -> Count:
    """How many rows ``queryset`` holds: exact up to ``limit`` (default
    :data:`EXACT_COUNT_LIMIT`; a count that stops there, so it never reads more than ``limit``
    index entries), else the planner's estimate on PostgreSQL, or ``limit + 1`` marked as a
    lower bound elsewhere (``exact=False, lower_bound=True``)."""
    return result_counts([queryset], limits=[limit])[0]


def result_counts(
    querysets: Sequence[QuerySet[Any]], *, limits: Sequence[int | None] = ()
) -> list[Count]:
    """:func:`result_count` of each queryset, the capped counts of all of them in one query;
    ``limits`` gives each queryset's cap in order (None, or a shorter list, for
    :data:`EXACT_COUNT_LIMIT`).

    The facet counts of a list use it: each option is its own filtered queryset, and one
    ``SELECT (SELECT COUNT(*) FROM (… LIMIT limit+1)), …`` counts them all; only the counts
    that reach the cap cost one more query each (the planner's estimate, PostgreSQL only).
    """
    if not querysets:
        return []
    caps = [EXACT_COUNT_LIMIT if cap is None else cap for cap in limits]
    caps += [EXACT_COUNT_LIMIT] * (len(querysets) - len(caps))
    db = querysets[0].db
    selects: list[str] = []
    params: list[Any] = []
    column: dict[int, int] = {}  # queryset index -> its column in the one SELECT
    for i, queryset in enumerate(querysets):
        # Only the keys: the list's annotations (undo status subqueries) would run per row.
        capped = queryset.order_by().values("pk")[: caps[i] + 1]
        try:
            sql, sql_params = capped.query.sql_with_params()
        except EmptyResultSet:  # a filter no row can match (``pk__in=[]``, ``.none()``): 0
            continue
        column[i] = len(selects)
        selects.append(f"(SELECT COUNT(*) FROM ({sql}) capped_{i})")
        params.extend(sql_params)
    row: Sequence[Any] = ()
    if selects:
        with connections[db].cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(selects)}", params)
            row = cursor.fetchone() or ()
    counts: list[Count] = []
    for i, (queryset, limit) in enumerate(zip(querysets, caps, strict=False)):
        capped_count = row[column[i]] if i in column else 0
        if int(capped_count) <= limit:
            counts.append(Count(int(capped_count), exact=True))
        elif connections[db].vendor == "postgresql":
            counts.append(Count(max(_planner_rows(queryset), limit + 1), exact=False))
        else:
            counts.append(Count(limit + 1, exact=False, lower_bound=True))
    return counts


def _planner_rows(queryset: QuerySet[Any]) -> int:
    """The planner's estimate of how many rows ``queryset`` returns (PostgreSQL's EXPLAIN)."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg returns the JSON decoded, some drivers do not
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


@dataclass(frozen=True)
class Activity:
    """One line of the home page's recent activity."""

    when: datetime
    kind: str
    text: str
    user: str
    url: str
    success: bool = True

    @property
    def ago(self) -> str:
        """How long ago, for people: "just now" under a minute, else "5 minutes ago"."""
        if timezone.now() - self.when < timedelta(minutes=1):
            return "just now"
        return f"{timesince(self.when)} ago"


def recent_activity(
    *, limit: int = 12, transitions: bool = True, commands: bool = True
) -> list[Activity]:
    """The latest transitions, commands and panel actions, newest first (three queries).

    ``transitions`` / ``commands`` False leave those out (the reader may not see them)."""
    from django.urls import reverse

    from patterns_admin.models import PanelActionLog
    from toolkit.models import CommandAuditLog

    audit_url = reverse("patterns_admin:audit-list")
    items: list[Activity] = []
    for t in transition_audit_list()[: limit if transitions else 0]:
        items.append(
            Activity(
                when=t.created_at,
                kind="transition",
                text=f"{t.model} #{t.object_id}: {t.transition} ({t.from_state} → {t.to_state})",
                user=t.user.get_username() if t.user else "",
                url=f"{audit_url}?"
                + urlencode({"kind": "transitions", "model": t.model, "object_id": t.object_id}),
            )
        )
    recent_commands = CommandAuditLog.objects.select_related("user").order_by("-created_at", "-id")
    for c in recent_commands[: limit if commands else 0]:
        items.append(
            Activity(
                when=c.created_at,
                kind="undo" if c.kind == "undo" else "command",
                text=f"{c.kind} {c.command.rsplit('.', 1)[-1]}",
                user=c.user.get_username() if c.user else "",
                url=f"{audit_url}?" + urlencode({"kind": "commands", "command": c.command}),
                success=c.success,
            )
        )
    for a in PanelActionLog.objects.select_related("user").order_by("-created_at", "-id")[:limit]:
        items.append(
            Activity(
                when=a.created_at,
                kind="panel",
                text=f"{a.action.replace('_', ' ')} {a.target}",
                user=a.user.get_username() if a.user else "",
                url="",
                success=a.success,
            )
        )
    items.sort(key=lambda item: item.when, reverse=True)
    return items[:limit]
