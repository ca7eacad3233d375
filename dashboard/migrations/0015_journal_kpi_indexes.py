from django.db import migrations, models


class Migration(migrations.Migration):
    """Indexes for the alarm KPIs (dashboard.kpi, docs/kpi.md)."""

    dependencies = [
        ("dashboard", "0014_alarm_occurrences"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(fields=["transition", "at", "site_id", "alarm_name",
                                       "instance_id", "priority"],
                               name="journal_kpi_by_transition"),
        ),
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(fields=["site_id", "alarm_name", "instance_id", "at",
                                       "transition"],
                               name="journal_kpi_occurrence"),
        ),
    ]
