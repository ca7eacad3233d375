"""The audit log is append-only in the database too, not only in the ORM.

Triggers refuse every DELETE and every UPDATE of dashboard_auditentry, except two:
completing a pending row once (result, state_after, message, completed_at), and the user
link set to NULL when a user is deleted (the username column keeps who it was).

SQLite drops a table's triggers when a migration rebuilds the table: a later migration that
alters AuditEntry must run INSTALL again (tests/dashboard/test_audit.py would catch it).
PostgreSQL: TRUNCATE is left to the database owner (test runs flush with it); the product
never truncates.
"""

from django.db import migrations, models

TABLE = "dashboard_auditentry"

# Columns no statement may ever change.
FIXED = (
    "id", "created_at", "username", "action", "remote_addr", "device", "site_id",
    "alarm_name", "instance_id", "state_before", "comment",
)
# Columns written once, when a pending row is completed.
OUTCOME = ("result", "state_after", "message", "completed_at")

SQLITE_FIXED_SAME = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in FIXED)
SQLITE_OUTCOME_SAME = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in OUTCOME)

SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN
        SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused');
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    WHEN NOT (
        {SQLITE_FIXED_SAME}
        AND (
            (OLD.result = 'pending' AND NEW.result <> 'pending'
             AND OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL
             AND NEW.user_id IS OLD.user_id)
            OR (NEW.user_id IS NULL AND {SQLITE_OUTCOME_SAME})
        )
    )
    BEGIN
        SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused');
    END
    """,
]
SQLITE_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
]

PG_FIXED = ", ".join(FIXED)
PG_FIXED_NEW = ", ".join(f"NEW.{c}" for c in FIXED)
PG_FIXED_OLD = ", ".join(f"OLD.{c}" for c in FIXED)
PG_OUTCOME_NEW = ", ".join(f"NEW.{c}" for c in OUTCOME)
PG_OUTCOME_OLD = ", ".join(f"OLD.{c}" for c in OUTCOME)

POSTGRESQL_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit entries are append-only: DELETE refused';
        END IF;
        -- {PG_FIXED}
        IF ROW({PG_FIXED_NEW}) IS DISTINCT FROM ROW({PG_FIXED_OLD}) THEN
            RAISE EXCEPTION 'audit entries are append-only: UPDATE refused';
        END IF;
        IF OLD.result = 'pending' AND NEW.result <> 'pending'
           AND OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL
           AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id THEN
            RETURN NEW;
        END IF;
        IF NEW.user_id IS NULL
           AND ROW({PG_OUTCOME_NEW}) IS NOT DISTINCT FROM ROW({PG_OUTCOME_OLD}) THEN
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
POSTGRESQL_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
]

INSTALL = {"sqlite": SQLITE_INSTALL, "postgresql": POSTGRESQL_INSTALL}
UNINSTALL = {"sqlite": SQLITE_UNINSTALL, "postgresql": POSTGRESQL_UNINSTALL}


def run(statements):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise RuntimeError(
                f"no append-only triggers for the {vendor} database; use SQLite or PostgreSQL"
            )
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="result",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
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
        migrations.RunPython(run(INSTALL), run(UNINSTALL)),
    ]
