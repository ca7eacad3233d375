"""Create the journal's trigram indexes for its text filter, on PostgreSQL.

    manage.py journal_text_index

Migration 0019 creates them where it may create the extension pg_trgm; where it could not,
a database superuser runs `CREATE EXTENSION pg_trgm` in the dashboard's database, then this
command creates the indexes (docs/journal.md). Running it again changes nothing.
"""

from __future__ import annotations

from importlib import import_module

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

text_search = import_module("dashboard.migrations.0019_journal_text_search")


def present() -> list[str]:
    """The trigram indexes the database has, of those migration 0019 names."""
    names = [name for name, _table, _expression in text_search.INDEXES]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s) "
                       "AND schemaname = ANY(current_schemas(false))", [names])
        return sorted(row[0] for row in cursor.fetchall())


class Command(BaseCommand):
    help = "Create the trigram indexes of the journal's text filter (PostgreSQL, pg_trgm)."

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("The database is not PostgreSQL: the text filter needs no index.")
            return
        with connection.schema_editor() as editor:
            text_search.create_text_indexes(None, editor)
        made = present()
        if len(made) < len(text_search.INDEXES):
            raise CommandError("The trigram indexes could not be created: pg_trgm is missing "
                               "(see the warning above; a database superuser can run "
                               "CREATE EXTENSION pg_trgm).")
        self.stdout.write(f"The journal's text filter has its indexes: {', '.join(made)}.")
