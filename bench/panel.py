"""Server time and query count of the control panel's list pages at 10,000 and 1,000,000 rows.

Run: ``python -m bench.panel`` (PostgreSQL on 127.0.0.1:5432; ``BENCH_PG_URL`` overrides the
server). Two databases are created, migrated and seeded here: ``bench_panel_small`` with 10,000
rows per table and ``bench_panel`` with the large size.
Options: ``--rows 1000000`` (the large size), ``--requests 60``, ``--keep`` (reuse databases
already seeded to their size instead of dropping them). ``BENCH_DB_SUFFIX`` is appended to both
database names, so two runs on one server do not drop each other's databases.

Goal (issue 4): p95 ≤ 100 ms and ≤ 15 queries per page, and p95 at 1M within 1.5× of p95 at
10k. Seeding is server-side ``INSERT … SELECT FROM generate_series`` (no Python loop), then
``VACUUM ANALYZE`` and a ``CHECKPOINT``.
The demo shop's orders are seeded to the same size (states spread: 30 % pending, 30 % paid, …)
for issue 14's bulk transitions: the object list of a state and the bulk previews
(:func:`_bulk_pages`).

Each page is requested through Django's test ``Client`` (middleware, session, rendering: the
whole server side) as a logged-in superuser, three warm-up requests then ``--requests`` timed
ones, round-robin over the pages *and the two sizes* (the default connection is pointed at one
database, then the other), so that noise from the shared machine falls on both sizes alike and
the 1M/10k ratio compares like with like. The
floor, measured in the same run, is the page's own SQL replayed raw on a cursor: ``page/sql``
shows what Django adds (rendering, middleware) on top of the database's work.
Pages: ``first`` (no parameters; a list's first page also counts its facets and result and
reads its date hierarchy's span), ``filtered`` (an indexed filter), ``deep`` (a keyset cursor
90 % into the table; for a stream, its last page of events), and issue 14 item 5's list aids:
``search`` (the search box), ``facet+date`` (a facet option and a month of the date
hierarchy, each facet option counted over the other filters). The home page (counts, recent
activity, projection health) and the projection list have only ``first``; so do issue 14's
object history (an order 90 % into the table) and user activity, and the command detail of a
row 90 % into the table (``deep``). The event feed has all three (``filtered``: one event type;
``deep``: a position 90 % down); the correlation view (``first``) shows a request 90 % into the
tables (its commands and events share ``correlation_id = "req-<g / 4>"``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench._report import Table, publish

SMALL = 10_000
EVENTS_PER_STREAM = 10
#: The stream that grows with the table, for the deep page of stream-detail.
HOT_STREAM = "cart-hot"
#: Commands and events per correlation id ("req-<g / CORRELATED>"): one request's worth.
CORRELATED = 4


#: `make bench` (python -m bench): 100,000 rows and 20 requests per page keep the run short.
MAKE_BENCH_ARGS = ["--rows", "100000", "--requests", "20"]


def _configure(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    os.environ["DJANGO_DEBUG"] = "0"
    import django

    django.setup()


def _create_database(server_url: str, name: str, *, keep: bool) -> str:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not keep:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _add_database(alias: str, url: str) -> None:
    """Declare ``url`` as the database ``alias`` after ``django.setup()``."""
    from django.conf import settings
    from django.db import connections

    from demo.dburl import parse_database_url

    settings.DATABASES[alias] = parse_database_url(url, base_dir=settings.BASE_DIR)
    connections.__dict__.pop("settings", None)  # a cached_property: recompute with the new alias
    connections._settings = None


def _use(alias: str, wrappers: dict[str, Any]) -> None:
    """Point the ``default`` connection (what the views query) at the database ``alias``."""
    from django.db import connections

    connections._connections.default = wrappers[alias]


def _seed(start: int, stop: int, user_ids: list[int]) -> None:
    """Rows ``start`` < g ≤ ``stop`` of each table; row g is g seconds old (bigger = older)."""
    from django.db import connection

    users = f"(ARRAY{user_ids}::bigint[])[1 + g %% {len(user_ids)}]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO toolkit_statetransitionaudit
              (model, object_id, machine, transition, from_state, to_state, user_id, reason,
               metadata, created_at)
            SELECT 'shop.order', (g / 3)::text, 'order',
                   (ARRAY['pay', 'ship', 'deliver'])[1 + g %% 3],
                   (ARRAY['pending', 'paid', 'shipped'])[1 + g %% 3],
                   (ARRAY['paid', 'shipped', 'delivered'])[1 + g %% 3],
                   {users}, '', '{{}}'::jsonb,
                   now() - make_interval(secs => g)
            FROM generate_series(%s, %s) AS g
            """,
            [start + 1, stop],
        )
        cursor.execute(
            f"""
            INSERT INTO toolkit_commandauditlog
              (command, kind, params, result, user_id, success, error, undoable, undo_state,
               duration_ms, correlation_id, created_at)
            SELECT (ARRAY['demo.shop.commands.CreateOrderCommand',
                          'demo.shop.commands.SendInvoiceCommand',
                          'demo.shop.commands.ApplyDiscountCommand'])[1 + g %% 3],
                   'execute', jsonb_build_object('order_id', g), NULL, {users},
                   g %% 25 <> 0, CASE WHEN g %% 25 = 0 THEN 'ValidationError: bad' ELSE '' END,
                   g %% 3 = 0, NULL, 0.5, 'req-' || (g / %s), now() - make_interval(secs => g)
            FROM generate_series(%s, %s) AS g
            """,
            [CORRELATED, start + 1, stop],
        )
        # Events: the hot stream takes one event in ten, the rest go ten per stream.
        hot_before, hot_after = start // 10, stop // 10
        rest_before, rest_after = start - hot_before, stop - hot_after
        cursor.execute(
            """
            INSERT INTO toolkit_domainevent
              (event_id, aggregate_id, aggregate_type, sequence, event_type, schema_version,
               payload, metadata, correlation_id, causation_id, user_id, created_at)
            SELECT gen_random_uuid(), 'cart-' || lpad((1 + (g - 1) / %s)::text, 7, '0'),
                   'ShoppingCart', 1 + (g - 1) %% %s,
                   CASE WHEN (g - 1) %% %s = 0 THEN 'ShoppingCart.Opened'
                        ELSE 'ShoppingCart.ItemAdded' END,
                   CASE WHEN (g - 1) %% %s = 0 THEN 1 ELSE 2 END,
                   CASE WHEN (g - 1) %% %s = 0
                        THEN jsonb_build_object('customer', 'Customer ' || g)
                        ELSE jsonb_build_object('sku', 'SKU-' || (g %% 97), 'quantity', 1,
                                                'unit_price', '9.99') END,
                   '{}'::jsonb, 'req-' || (g / %s), '', '', now() - make_interval(secs => g)
            FROM generate_series(%s, %s) AS g
            """,
            [EVENTS_PER_STREAM] * 5 + [CORRELATED, rest_before + 1, rest_after],
        )
        cursor.execute(
            """
            INSERT INTO toolkit_domainevent
              (event_id, aggregate_id, aggregate_type, sequence, event_type, schema_version,
               payload, metadata, correlation_id, causation_id, user_id, created_at)
            SELECT gen_random_uuid(), %s, 'ShoppingCart', s,
                   CASE WHEN s = 1 THEN 'ShoppingCart.Opened' ELSE 'ShoppingCart.ItemAdded' END,
                   CASE WHEN s = 1 THEN 1 ELSE 2 END,
                   CASE WHEN s = 1 THEN jsonb_build_object('customer', 'Hot customer')
                        ELSE jsonb_build_object('sku', 'SKU-' || (s %% 97), 'quantity', 1,
                                                'unit_price', '9.99') END,
                   '{}'::jsonb, '', '', '', now() - make_interval(secs => %s - s)
            FROM generate_series(%s, %s) AS s
            """,
            [HOT_STREAM, hot_after, hot_before + 1, hot_after],
        )
        streams_before = rest_before // EVENTS_PER_STREAM
        streams_after = rest_after // EVENTS_PER_STREAM
        cursor.execute(
            """
            INSERT INTO toolkit_eventstream
              (aggregate_id, aggregate_type, last_sequence, created_at, updated_at)
            SELECT 'cart-' || lpad(s::text, 7, '0'), 'ShoppingCart', %s,
                   now() - make_interval(secs => s * %s),
                   now() - make_interval(secs => s * %s - 1)
            FROM generate_series(%s, %s) AS s
            """,
            [*[EVENTS_PER_STREAM] * 3, streams_before + 1, streams_after],
        )
        cursor.execute(
            """
            INSERT INTO toolkit_eventstream
              (aggregate_id, aggregate_type, last_sequence, created_at, updated_at)
            VALUES (%s, 'ShoppingCart', %s, now(), now())
            ON CONFLICT (aggregate_id) DO UPDATE SET last_sequence = EXCLUDED.last_sequence
            """,
            [HOT_STREAM, hot_after],
        )
        for table in (
            "toolkit_statetransitionaudit",
            "toolkit_commandauditlog",
            "toolkit_domainevent",
            "toolkit_eventstream",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        # Write the seeded pages out now: otherwise the checkpointer flushes a few GB of dirty
        # buffers while the pages are being timed, and the large size looks slower than it is.
        cursor.execute("CHECKPOINT")


def _row_count() -> int:
    from toolkit.models import StateTransitionAudit

    return StateTransitionAudit.objects.count()


def _deep_cursor(model: Any, field: str, depth: int) -> str:
    """The keyset cursor of the row ``depth`` rows down the ``(-field, -id)`` order."""
    from patterns_admin.pagination import Cursor

    row = model.objects.order_by(f"-{field}", "-id")[depth : depth + 1].get()
    return Cursor.of(row, field).encode()


def _pages(rows: int) -> list[tuple[str, str, str]]:
    """``(page, variant, url)`` for every page measured at this size."""
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from toolkit.models import CommandAuditLog, DomainEvent, EventStream, StateTransitionAudit

    audit = reverse("patterns_admin:audit-list")
    commands = reverse("patterns_admin:command-list")
    streams = reverse("patterns_admin:stream-list")
    feed = reverse("patterns_admin:event-feed")
    detail = reverse("patterns_admin:stream-detail", args=["cart-0000001"])
    hot = reverse("patterns_admin:stream-detail", args=[HOT_STREAM])
    hot_last = EventStream.objects.get(aggregate_id=HOT_STREAM).last_sequence
    depth = int(rows * 0.9)
    stream_depth = int(EventStream.objects.count() * 0.9)
    # The month of the row 10 % down the table (rows are one second apart): what the date
    # hierarchy offers there.
    month = f"{timezone.localtime(timezone.now() - timedelta(seconds=rows // 10)):%Y-%m}"
    return [
        ("index", "first", reverse("patterns_admin:index")),
        ("projection-list", "first", reverse("patterns_admin:projection-list")),
        ("audit-list", "first", audit),
        ("audit-list", "filtered", f"{audit}?transition=ship&user=bench_b"),
        (
            "audit-list",
            "deep",
            f"{audit}?before={_deep_cursor(StateTransitionAudit, 'created_at', depth)}",
        ),
        # The search: object id (exact, any case), reason (contains), user (exact); one
        # order's rows, found among every row.
        ("audit-list", "search", f"{audit}?q={depth // 3}"),
        ("audit-list", "facet+date", f"{audit}?transition=ship&date={month}"),
        ("command-list", "first", commands),
        ("command-list", "filtered", f"{commands}?success=false"),
        (
            "command-list",
            "deep",
            f"{commands}?before={_deep_cursor(CommandAuditLog, 'created_at', depth)}",
        ),
        ("command-list", "search", f"{commands}?q=SendInvoice"),
        ("command-list", "facet+date", f"{commands}?success=false&date={month}"),
        ("stream-list", "first", streams),
        ("stream-list", "search", f"{streams}?aggregate_id=cart-00000"),
        ("stream-list", "facet+date", f"{streams}?aggregate_type=ShoppingCart&date={month}"),
        ("projection-list", "search", f"{reverse('patterns_admin:projection-list')}?q=rev"),
        (
            "stream-list",
            "filtered",
            f"{streams}?aggregate_type=ShoppingCart&aggregate_id=cart-00001",
        ),
        (
            "stream-list",
            "deep",
            f"{streams}?before={_deep_cursor(EventStream, 'updated_at', stream_depth)}",
        ),
        ("stream-detail", "first", detail),
        ("stream-detail", "filtered", f"{detail}?at=5"),
        ("stream-detail", "deep", f"{hot}?after={max(hot_last - 100, 0)}"),
        # Issue 14's investigation pages: a command deep in the table, the history of an order
        # (its transitions and the commands naming it), one user's activity.
        (
            "command-detail",
            "deep",
            reverse(
                "patterns_admin:command-detail",
                args=[CommandAuditLog.objects.order_by("id").values_list("pk", flat=True)[depth]],
            ),
        ),
        (
            "object-history",
            "first",
            reverse("patterns_admin:object-history", args=["shop", "order", str(depth // 3)]),
        ),
        ("user-activity", "first", reverse("patterns_admin:user-activity", args=["bench_b"])),
        # The all-events feed: newest page, one event type (1 event in 10), 90 % down the
        # positions; and the correlation view of a request 90 % into the tables.
        ("event-feed", "first", feed),
        ("event-feed", "filtered", f"{feed}?event_type=ShoppingCart.Opened"),
        (
            "event-feed",
            "deep",
            f"{feed}?before="
            f"{DomainEvent.objects.order_by('-id').values_list('id', flat=True)[depth]}",
        ),
        (
            "correlation",
            "first",
            reverse("patterns_admin:correlation", args=[f"req-{depth // CORRELATED}"]),
        ),
    ]


@dataclass(frozen=True)
class Figure:
    page: str
    variant: str
    rows: int
    p50_ms: float
    p95_ms: float
    queries: int
    sql_p50_ms: float


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Size:
    """One database of the bench: its alias, rows per table, logged-in client and pages."""

    alias: str
    rows: int
    client: Any
    pages: list[tuple[str, str, str]]


def _measure_all(sizes: list[Size], wrappers: dict[str, Any], n: int) -> list[Figure]:
    """Time every page of every size ``n`` times, round-robin over sizes and pages, so a burst
    of load on the shared machine falls on all pages and both sizes alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statements: dict[tuple[str, str], list[str]] = {}
    for size in sizes:
        _use(size.alias, wrappers)
        for _, _, url in size.pages:
            for _ in range(3):
                response = size.client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code} ({size.alias})")
            with CaptureQueriesContext(connection) as captured:
                size.client.get(url)
            statements[size.alias, url] = [q["sql"] for q in captured.captured_queries]
    timings: dict[tuple[str, str], list[float]] = {key: [] for key in statements}
    sql_timings: dict[tuple[str, str], list[float]] = {key: [] for key in statements}
    for _ in range(n):
        for size in sizes:
            _use(size.alias, wrappers)
            with connection.cursor() as cursor:
                for _, _, url in size.pages:
                    key = (size.alias, url)
                    start = time.perf_counter()
                    size.client.get(url)
                    timings[key].append((time.perf_counter() - start) * 1000)
                    start = time.perf_counter()
                    for statement in statements[key]:
                        cursor.execute(statement)
                        if cursor.description is not None:
                            cursor.fetchall()
                    sql_timings[key].append((time.perf_counter() - start) * 1000)
    return [
        Figure(
            page=page,
            variant=variant,
            rows=size.rows,
            p50_ms=statistics.median(timings[size.alias, url]),
            p95_ms=_percentile(timings[size.alias, url], 0.95),
            queries=len(statements[size.alias, url]),
            sql_p50_ms=statistics.median(sql_timings[size.alias, url]),
        )
        for size in sizes
        for page, variant, url in size.pages
    ]


#: Orders per status, out of 20 (row g gets ``ORDER_STATES[g % 20]``): a state with many rows.
ORDER_STATES = (
    ["pending"] * 6 + ["paid"] * 6 + ["shipped"] * 4 + ["delivered"] * 2 + ["cancelled", "refunded"]
)
#: The state and transition the bulk pages preview (``ship``'s guard blocks orders without an
#: address: one in eleven).
BULK_STATE, BULK_TRANSITION = "paid", "ship"


def _seed_orders(rows: int) -> None:
    """The demo shop's orders up to ``rows`` (server-side, as :func:`_seed`); order g is g
    seconds old, in ``ORDER_STATES[g % 20]``, without an address when g % 11 = 0."""
    from django.db import connection

    from demo.shop.models import Order

    have = Order.objects.count()
    if have >= rows:
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO shop_order
              (customer, email, address, total, discount_percent, pricing, status, created_at)
            SELECT 'Customer ' || g,
                   'c' || g || (ARRAY['@example.com', '@mail.test'])[1 + g %% 2],
                   CASE WHEN g %% 11 = 0 THEN '' ELSE g || ' Bench Street' END,
                   (g %% 2000) + 0.99, 0, 'standard',
                   (ARRAY{ORDER_STATES!r}::text[])[1 + g %% 20],
                   now() - make_interval(secs => g)
            FROM generate_series(%s, %s) AS g
            """,
            [have + 1, rows],
        )
        cursor.execute("VACUUM ANALYZE shop_order")
        cursor.execute("CHECKPOINT")
    elapsed = time.perf_counter() - started
    print(f"seeded {have:,} → {rows:,} orders in {elapsed:.0f} s", file=sys.stderr)


def _bulk_pages() -> list[tuple[str, str, str]]:
    """Issue 14's bulk transitions on the demo shop's orders: the object list of one state
    (``first``; ``deep``: its keyset ``?after=`` 90 % down the state), and the preview of
    ``ship`` on a page of 50 ids (90 % down the state) and on the whole state (``state``: its
    count, then the first ``BULK_LIMIT`` objects checked)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from demo.shop.models import Order

    objects = reverse("patterns_admin:object-list", args=["shop", "order"])
    preview = reverse("patterns_admin:bulk-transition-preview", args=["shop", "order"])
    in_state = Order.objects.filter(status=BULK_STATE).order_by("pk").values_list("pk", flat=True)
    depth = int(in_state.count() * 0.9)
    ids = list(in_state[depth : depth + 50])
    state = urlencode({"state": BULK_STATE})
    return [
        ("object-list", "first", f"{objects}?{state}"),
        ("object-list", "deep", f"{objects}?{state}&after={ids[0]}"),
        (
            "bulk-preview",
            "ids",
            f"{preview}?{urlencode({'transition': BULK_TRANSITION, 'ids': ids}, doseq=True)}",
        ),
        ("bulk-preview", "state", f"{preview}?transition={BULK_TRANSITION}&{state}"),
    ]


def _client() -> Any:
    from django.contrib.auth.models import User
    from django.test import Client

    admin = User.objects.filter(username="bench_admin").first()
    if admin is None:
        admin = User.objects.create_superuser("bench_admin", "bench@example.com", None)
    client = Client()
    client.force_login(admin)
    return client


def _users() -> list[int]:
    from django.contrib.auth.models import User

    return [
        User.objects.get_or_create(username=f"bench_{name}")[0].pk for name in ("a", "b", "c", "d")
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="the large size")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per page")
    parser.add_argument("--keep", action="store_true", help="reuse seeded databases")
    args = parser.parse_args(argv)

    server = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    suffix = os.environ.get("BENCH_DB_SUFFIX", "")
    large_url = _create_database(server, f"bench_panel{suffix}", keep=args.keep)
    small_url = _create_database(server, f"bench_panel_small{suffix}", keep=args.keep)
    _configure(large_url)
    _add_database("small", small_url)
    from django.core.management import call_command
    from django.db import connections

    wrappers = {"default": connections["default"], "small": connections["small"]}
    sizes: list[Size] = []
    for alias, rows in (("small", SMALL), ("default", args.rows)):
        _use(alias, wrappers)
        # No setup_test_environment(): its template-rendered signal would copy every context
        # into the response and inflate the figures. demo.settings allows "testserver".
        call_command("migrate", verbosity=0)
        user_ids = _users()
        have = _row_count()
        if have < rows:
            started = time.perf_counter()
            _seed(have, rows, user_ids)
            elapsed = time.perf_counter() - started
            print(f"seeded {have:,} → {rows:,} rows per table in {elapsed:.0f} s", file=sys.stderr)
        elif have > rows:
            raise SystemExit(f"{alias} holds {have:,} rows, more than {rows:,}: drop --keep")
        _seed_orders(rows)
        sizes.append(Size(alias, rows, _client(), _pages(rows) + _bulk_pages()))
    figures = _measure_all(sizes, wrappers, args.requests)
    for figure in figures:
        print(
            f"{figure.page:15} {figure.variant:9} {figure.rows:>9,} p50 {figure.p50_ms:6.1f} ms  "
            f"p95 {figure.p95_ms:6.1f} ms  {figure.queries:2} queries  "
            f"sql {figure.sql_p50_ms:5.1f} ms",
            file=sys.stderr,
        )
    _report(figures, args.rows)
    return 0


def _report(figures: list[Figure], large: int) -> None:
    by_key = {(f.page, f.variant, f.rows): f for f in figures}
    print()
    print(
        f"| page | variant | p50 10k | p95 10k | p50 {large // 1000:,}k | p95 {large // 1000:,}k "
        "| p95 ratio | queries | page/sql (large) |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    worst_p95 = 0.0
    worst_ratio = 0.0
    most_queries = 0
    for (page, variant, rows), small in by_key.items():
        if rows != SMALL:
            continue
        big = by_key[(page, variant, large)]
        ratio = big.p95_ms / small.p95_ms
        worst_p95 = max(worst_p95, big.p95_ms, small.p95_ms)
        worst_ratio = max(worst_ratio, ratio)
        most_queries = max(most_queries, big.queries, small.queries)
        print(
            f"| {page} | {variant} | {small.p50_ms:.1f} ms | {small.p95_ms:.1f} ms "
            f"| {big.p50_ms:.1f} ms | {big.p95_ms:.1f} ms | {ratio:.2f}× "
            f"| {small.queries} / {big.queries} | {big.p50_ms / big.sql_p50_ms:.1f}× |"
        )
    print()
    verdict = "met" if worst_p95 <= 100 and worst_ratio <= 1.5 and most_queries <= 15 else "MISSED"
    summary = (
        f"Goal {verdict}: worst p95 {worst_p95:.1f} ms (≤ 100), worst 1M/10k p95 ratio "
        f"{worst_ratio:.2f}× (≤ 1.5), most queries {most_queries} (≤ 15)."
    )
    print(summary)
    publish([_table(by_key, large, summary)])


def _table(by_key: dict[tuple[str, str, int], Figure], large: int, summary: str) -> Table:
    """The figures as the README's table (``make bench`` / ``python -m bench panel``)."""
    size = f"{large // 1000:,}k"
    rows: list[list[Any]] = []
    for (page, variant, rows_at), small in by_key.items():
        if rows_at != SMALL:
            continue
        big = by_key[(page, variant, large)]
        rows.append(
            [
                page,
                variant,
                round(small.p50_ms, 1),
                round(small.p95_ms, 1),
                round(big.p50_ms, 1),
                round(big.p95_ms, 1),
                f"{big.p95_ms / small.p95_ms:.2f}×",
                f"{small.queries} / {big.queries}",
                f"{big.p50_ms / big.sql_p50_ms:.1f}×",
            ]
        )
    return Table(
        title=f"Control panel pages, 10k and {size} rows per table (ms; goal p95 ≤ 100, "
        "≤ 15 queries, large/10k p95 ≤ 1.5×)",
        columns=[
            "page",
            "variant",
            "p50 10k",
            "p95 10k",
            f"p50 {size}",
            f"p95 {size}",
            "p95 ratio",
            "queries",
            "page/sql (large)",
        ],
        rows=rows,
        notes=[summary],
    )


if __name__ == "__main__":
    raise SystemExit(main())
