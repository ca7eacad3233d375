"""Two more allowed changes of an audit row, in the database's triggers too.

- An acknowledge whose answer was lost is completed as "unknown" and settled once, from
  what WinCC shows when the alarm is read back: result, state_after and message change,
  settled_at is set; nothing else.
- A summary of repeated anonymous refusals (username "(anonymous)", written final) counts
  one more: repeat_count grows and last_at is set; nothing else. A person's rows never count.

Adding repeat_count rebuilds the table on SQLite, which drops its triggers: this migration
installs the whole set again (replacing 0002's), on SQLite and PostgreSQL alike.
"""

import importlib

from django.db import migrations, models

previous = importlib.import_module("dashboard.migrations.0002_audit_append_only")
TABLE = previous.TABLE
FIXED = previous.FIXED
OUTCOME = ("result", "state_after", "message", "completed_at", "settled_at")
SUMMARY = ("repeat_count", "last_at")
# Which rows may count repeats: here anonymous refusals; 0009 adds a person's refusals.
# "{user}" stands for "user_id unchanged".
ANONYMOUS_SUMMARIES = "OLD.username = '(anonymous)' AND NEW.user_id IS NULL"


def _same(columns, *, null_safe: str) -> str:
    return " AND ".join(null_safe.format(c=c) for c in columns)


def _conditions(same: str, fixed=FIXED, outcome=OUTCOME, summaries=ANONYMOUS_SUMMARIES) -> str:
    """The one boolean expression every allowed UPDATE satisfies; `same` formats
    "column unchanged" for the database. Later migrations pass longer column lists."""
    fixed_same = _same(fixed, null_safe=same)
    outcome_same = _same(outcome, null_safe=same)
    summary = _same(SUMMARY, null_safe=same)
    user = same.format(c="user_id")
    return f"""
        {fixed_same}
        AND (
            (OLD.result = 'pending' AND NEW.result <> 'pending'
             AND OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL
             AND NEW.settled_at IS NULL AND {user} AND {summary})
            OR (OLD.result = 'unknown' AND NEW.result NOT IN ('pending', 'unknown')
                AND OLD.settled_at IS NULL AND NEW.settled_at IS NOT NULL
                AND {same.format(c="completed_at")} AND {user} AND {summary})
            OR (({summaries.replace("{user}", user)})
                AND OLD.result NOT IN ('pending', 'unknown')
                AND NEW.repeat_count > OLD.repeat_count AND NEW.last_at IS NOT NULL
                AND {outcome_same})
            OR (NEW.user_id IS NULL AND {outcome_same} AND {summary})
        )
    """


def triggers(fixed=FIXED, outcome=OUTCOME, summaries=ANONYMOUS_SUMMARIES
             ) -> dict[str, list[str]]:
    """The statements that install the triggers, per database, for these column lists and
    the rows that may count repeats."""
    sqlite_allowed = _conditions("NEW.{c} IS OLD.{c}", fixed, outcome, summaries)
    pg_allowed = _conditions("NEW.{c} IS NOT DISTINCT FROM OLD.{c}", fixed, outcome, summaries)
    sqlite = [
        *previous.SQLITE_UNINSTALL,
        f"""
        CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN
            SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused');
        END
        """,
        f"""
        CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        WHEN NOT ({sqlite_allowed})
        BEGIN
            SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused');
        END
        """,
    ]
    postgresql = [
        f"""
        CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'audit entries are append-only: DELETE refused';
            END IF;
            IF {pg_allowed} THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit entries are append-only: UPDATE refused';
        END
        $$ LANGUAGE plpgsql
        """,
        f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
        f"""
        CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()
        """,
    ]
    return {"sqlite": sqlite, "postgresql": postgresql}


INSTALL = triggers()
UNINSTALL = previous.UNINSTALL
run = previous.run


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0002_audit_append_only"),
    ]

    operations = [
        # The old rules would refuse the new columns' changes, and the rebuild drops them.
        migrations.RunPython(previous.run(UNINSTALL), previous.run(INSTALL)),
        migrations.AddField(
            model_name="auditentry",
            name="settled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="repeat_count",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="last_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="result",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("unknown", "Unknown: WinCC's answer was lost"),
                    ("ok", "Acknowledged"),
                    ("refused", "Refused by WinCC"),
                    ("denied", "Denied (no permission)"),
                    ("error", "Error"),
                    ("duplicate", "Already in progress or done"),
                    ("stale", "Not sent: alarm gone or changed"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunPython(previous.run(INSTALL), previous.run(UNINSTALL)),
    ]
