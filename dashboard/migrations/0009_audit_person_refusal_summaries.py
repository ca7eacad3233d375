"""A person's refusals beyond their budget are counted on one row (dashboard.refusals): the
database's triggers let a signed-in person's refused row (`denied` or `error`, final) count
one more, as an anonymous summary does: repeat_count grows and last_at is set; nothing else,
the row stays that person's. No column changes: only the triggers are installed again.
"""

import importlib

from django.db import migrations

base = importlib.import_module("dashboard.migrations.0003_audit_unknown_and_summaries")
previous = importlib.import_module("dashboard.migrations.0007_audit_writes")
TABLE = previous.TABLE
PERSON_SUMMARIES = (
    f"({base.ANONYMOUS_SUMMARIES}) OR (OLD.result IN ('denied', 'error') AND {{user}})"
)

INSTALL = base.triggers(previous.FIXED, previous.OUTCOME, PERSON_SUMMARIES)
UNINSTALL = previous.UNINSTALL
run = previous.run


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0008_deliveries"),
    ]

    operations = [
        migrations.RunPython(run(INSTALL), run(previous.INSTALL)),
    ]
