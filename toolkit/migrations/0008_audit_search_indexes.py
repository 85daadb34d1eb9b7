"""Indexes for the panel's list aids on the audit tables: the command log's execute/undo
facet (``(kind, -created_at)``, every database) and the search box (PostgreSQL only).

The search (``patterns_admin.listing.ListFilterSet``, ``?q=``) matches the transitions' object
id (``iexact``) or reason (``icontains``) and the commands' class or error (``icontains``); the
user name becomes ``user_id IN (SELECT …)``. Django writes ``iexact`` as ``UPPER(col::text) =
UPPER(%s)`` and ``icontains`` as ``UPPER(col::text) LIKE UPPER(%s)``, so the indexes are on
those expressions: a B-tree for the equality and trigram GIN indexes (``pg_trgm``) for the
"contains", which a B-tree cannot answer. Without them a search for a rare value reads the
whole table, once for the page and once per facet option it is counted under (issue 14's
bench: seconds at 1,000,000 rows).

``pg_trgm`` ships with PostgreSQL and is a trusted extension (13+): a user allowed to create
objects in the database may install it. Where it cannot be installed the trigram indexes are
left out (the search still works, by scanning) and the migration does not fail. Other
databases keep their scan. The indexes hold no data of their own: existing rows need nothing.
"""

from django.db import migrations, models, transaction

BTREE = {"tk_sta_object_upper": ("toolkit_statetransitionaudit", "object_id")}
TRIGRAM = {
    "tk_sta_reason_trgm": ("toolkit_statetransitionaudit", "reason"),
    "tk_cal_command_trgm": ("toolkit_commandauditlog", "command"),
    "tk_cal_error_trgm": ("toolkit_commandauditlog", "error"),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, column) in BTREE.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} (UPPER(({column})::text))"
        )
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # no privilege or not installed: search by scanning, as before
        return
    for name, (table, column) in TRIGRAM.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (UPPER(({column})::text) gin_trgm_ops)"
        )
    # The planner knows an expression's values only after ANALYZE; until autovacuum runs it
    # would guess, and walk the whole created_at index for a rare search.
    for table in {table for table, _ in [*BTREE.values(), *TRIGRAM.values()]}:
        schema_editor.execute(f"ANALYZE {table}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in [*BTREE, *TRIGRAM]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("toolkit", "0007_command_audit_correlation"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="commandauditlog",
            index=models.Index(fields=["kind", "-created_at"], name="tk_cal_kind"),
        ),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
