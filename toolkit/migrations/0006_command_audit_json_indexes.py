"""GIN indexes on the command audit's ``params`` and ``result`` (PostgreSQL only).

The object history page (``patterns_admin.history.object_history``) finds the commands that
touched an object by ``params @> {"<model>_id": pk}`` and ``result @> {"__model__": label,
"pk": pk}``; without these indexes PostgreSQL scans the whole table (issue 14's bench: the
page missed the 1M/10k ≤ 1.5× goal). ``jsonb_path_ops`` indexes answer ``@>`` only, which is
all the page asks, and are smaller than the default operator class. Other databases keep
their table scan (SQLite has no containment operator and no index on arbitrary JSON keys);
the indexes hold no data of their own, so existing rows need no migration.
"""

from django.db import migrations

INDEXES = {
    "tk_cal_params_gin": "params",
    "tk_cal_result_gin": "result",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON toolkit_commandauditlog "
            f"USING gin ({column} jsonb_path_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("toolkit", "0005_feed_correlation_index"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
