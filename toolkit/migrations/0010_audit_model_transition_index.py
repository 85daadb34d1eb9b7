"""An index on the transition audit's ``(model, transition, -created_at)``: the panel's audit log
counts its model facet over the other filters (a transition, a month of the date hierarchy), and
without an index holding both columns PostgreSQL counted that option by a sequential scan capped
at 1,001 rows. Such a scan starts where the table's last one stopped (synchronised scans on a
table above a quarter of ``shared_buffers``), so about one request in a hundred started past the
matching rows and read most of the table: 60-120 ms at 1,000,000 rows instead of 3 ms, the p95
tail of issue 14's bench ``audit-list facet+date``. Building it holds writes to the table back for
the build: about a second per million rows on the bench machine.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("toolkit", "0009_audit_user_transition_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="statetransitionaudit",
            index=models.Index(
                fields=["model", "transition", "-created_at"], name="tk_sta_model_transition"
            ),
        ),
    ]
