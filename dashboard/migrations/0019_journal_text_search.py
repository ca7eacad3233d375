"""Trigram indexes for the journal page's text filter, on PostgreSQL (docs/journal.md).

The filter is `icontains` on the text and the alarm name, which Django writes on PostgreSQL
as `UPPER(col::text) LIKE UPPER('%...%')`: no B-tree serves a pattern with a leading `%`, a
GIN trigram index on exactly that expression does. The extension pg_trgm is trusted since
PostgreSQL 13 (the database's owner may create it); where it cannot be created the migration
warns and goes on, and the text filter scans as before. SQLite: nothing to do.
"""

import logging

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger(__name__)

# (index, table, expression): the expression exactly as the icontains lookup compiles it.
INDEXES = [
    ("occurrence_text_trgm", "dashboard_alarmoccurrence", 'UPPER("event_text"::text)'),
    ("occurrence_name_trgm", "dashboard_alarmoccurrence", 'UPPER("alarm_name"::text)'),
    ("journal_text_trgm", "dashboard_journalentry", 'UPPER("event_text"::text)'),
    ("journal_name_trgm", "dashboard_journalentry", 'UPPER("alarm_name"::text)'),
]


def create_text_indexes(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        # A savepoint: a refused CREATE EXTENSION must not abort the migration's transaction.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        log.warning("pg_trgm could not be created (%s): the journal's text filter will read "
                    "the whole table. A database superuser or the database's owner can run "
                    "`CREATE EXTENSION pg_trgm` and then `manage.py journal_text_index`.",
                    first)
        return
    with connection.cursor() as cursor:
        for name, table, expression in INDEXES:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                           f"USING gin ({expression} gin_trgm_ops)")
        # ANALYZE samples the indexes' expressions: the planner then tells a rare text (the
        # index) from a common one (the time index, 51 rows soon found). Without it, until
        # autovacuum analyzes a table (days on a big journal), a common text sorts them all.
        cursor.execute("ANALYZE " + ", ".join(sorted({table for _n, table, _e in INDEXES})))


def drop_text_indexes(apps, schema_editor) -> None:
    """The indexes go; the extension stays (other objects may use it)."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name, _table, _expression in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0018_kpi_stored_times"),
    ]

    operations = [
        migrations.RunPython(create_text_indexes, drop_text_indexes),
    ]
