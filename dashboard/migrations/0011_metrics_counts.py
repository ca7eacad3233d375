"""Indexes from which /metrics counts the audit rows and the deliveries at every scrape, so
a scrape reads no whole table (a plain CREATE INDEX: the audit table's triggers stay)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dashboard', '0010_wall_screen_sound_priority'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['action', 'result', 'repeat_count'], name='audit_counts'),
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(fields=['trigger_id', 'kind', 'status', 'attempts'], name='delivery_counts'),
        ),
    ]
