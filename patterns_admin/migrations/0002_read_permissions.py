"""The panel's read permissions (one per area), view_sensitive and force_undo."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("patterns_admin", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="panelpermission",
            options={
                "default_permissions": (),
                "managed": False,
                "permissions": [
                    ("view_audit", "Can read the audit log in the panel"),
                    ("view_commands", "Can read the command log in the panel"),
                    ("view_streams", "Can read event streams in the panel"),
                    ("view_projections", "Can read projections in the panel"),
                    ("view_cqrs", "Can read replication status and dead letters in the panel"),
                    ("view_sensitive", "Can see sensitive fields unmasked in the panel"),
                    (
                        "force_undo",
                        "Can force an undo whose objects changed since the command ran",
                    ),
                    ("trigger_transition", "Can trigger state transitions from the panel"),
                    ("undo_command", "Can undo commands from the panel"),
                    ("toggle_plugin", "Can enable and disable plugins from the panel"),
                    ("replay_events", "Can replay events and rebuild projections from the panel"),
                    ("manage_cqrs", "Can resync replicas and replay dead letters from the panel"),
                ],
            },
        ),
    ]
