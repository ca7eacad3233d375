"""Setpoint writes: the permission `dashboard.write_tag`, and a write's audit columns.

"ok" and "stale" now also name a write (done; refused because its site is not current), so
their labels no longer speak of alarms alone.

A write's row names the tag, the value before and the value asked for (fixed like the rest
of the row) and the value read back after (written with the outcome, like state_after).
Adding the columns rebuilds the table on SQLite, which drops its triggers: this migration
installs the whole set again with the longer column lists, on SQLite and PostgreSQL alike.
"""

import importlib

from django.db import migrations, models

previous = importlib.import_module("dashboard.migrations.0003_audit_unknown_and_summaries")
TABLE = previous.TABLE
FIXED = (*previous.FIXED, "tag_name", "value_before", "value_requested")
OUTCOME = (*previous.OUTCOME, "value_after")

INSTALL = previous.triggers(FIXED, OUTCOME)
UNINSTALL = previous.UNINSTALL
run = previous.run


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0006_site_access_names"),
    ]

    operations = [
        migrations.RunPython(run(UNINSTALL), run(previous.INSTALL)),
        migrations.AlterModelOptions(
            name="siteaccess",
            options={
                "permissions": [
                    ("view_dashboard", "Can view dashboards, values and alarms"),
                    ("acknowledge_alarm", "Can acknowledge alarms"),
                    ("view_audit", "Can view and export the audit log"),
                    ("shelve_alarm", "Can shelve and unshelve alarms"),
                    ("write_tag", "Can write setpoints and switches of writable tags"),
                ],
                "verbose_name": "site access",
                "verbose_name_plural": "site access rights",
            },
        ),
        migrations.AddField(
            model_name="auditentry",
            name="tag_name",
            field=models.CharField(blank=True, max_length=256),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="value_before",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="value_requested",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="value_after",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="result",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("unknown", "Unknown: WinCC's answer was lost"),
                    ("ok", "Done (acknowledged or written)"),
                    ("refused", "Refused by WinCC"),
                    ("denied", "Denied (no permission)"),
                    ("error", "Error"),
                    ("duplicate", "Already in progress or done"),
                    ("stale", "Not sent: stale or changed"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunPython(run(INSTALL), run(UNINSTALL)),
    ]
