"""``CommandAuditLog.causation_id``: the event whose handler ran the command (the event store's
``event_context``), so the panel's correlation view nests the command under that event. Rows of
earlier commands get ``""`` (no cause recorded). Adding a column with a constant default is a
catalogue change on PostgreSQL 11+ (no table rewrite) and a schema edit on SQLite.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("toolkit", "0010_audit_model_transition_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="commandauditlog",
            name="causation_id",
            field=models.CharField(
                blank=True,
                default="",
                help_text=(
                    "The id of the event whose handler ran the command (the event store's "
                    "event_context), empty when no event caused it."
                ),
                max_length=64,
            ),
        ),
    ]
