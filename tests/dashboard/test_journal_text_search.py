"""The journal's text filter and its trigram indexes (migration 0019, docs/journal.md):
the filter finds text and alarm names whatever their case, on either database; on
PostgreSQL the indexes exist and match what the filter compiles to; a database where pg_trgm
may not be created still migrates, with a warning."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from importlib import import_module
from io import StringIO
from unittest import skipUnless

from django.core.management import call_command
from django.db import connection
from django.test import TestCase, TransactionTestCase

from dashboard.journal_query import text_matches
from dashboard.models import AlarmOccurrence, JournalEntry
from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import BaseTestCase
from tests.dashboard.test_journal import T0, entry, lifecycle, lines, write

text_search = import_module("dashboard.migrations.0019_journal_text_search")
NAMES = sorted(name for name, _table, _expression in text_search.INDEXES)
POSTGRES = connection.vendor == "postgresql"


def text_indexes() -> dict[str, str]:
    """The trigram indexes present: name -> definition."""
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)",
                           [NAMES])
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name "
                           f"IN ({', '.join(['%s'] * len(NAMES))})", NAMES)
        return dict(cursor.fetchall())


class TextFilterTestCase(SitesConfigured, BaseTestCase):
    """The page's text filter, on SQLite and on PostgreSQL (there through the indexes)."""

    def setUp(self):
        super().setUp()
        self.client.force_login(self.viewer)
        lifecycle(name="Oven_Zone1_Temp_HH", event_text="Zone 1 OVER temperature")
        lifecycle(name="CONVEYOR_Jam", at=T0 + timedelta(hours=1), event_text="Belt stopped")
        write(entry(site="oven-unified", name="Door_Open", at=T0 + timedelta(hours=2),
                    event_text="Oven door open"))

    def names(self, query: str) -> list[str]:
        html = self.client.get(f"/journal/?{query}").content.decode()
        return [line.split(":")[1].split("#")[0] for line in lines(html)]

    def test_text_and_name_match_whatever_the_case(self):
        cases = {
            "text=over+temp": ["Oven_Zone1_Temp_HH"],  # text, typed in another case
            "text=conveyor_j": ["CONVEYOR_Jam"],  # the name; "_" is a letter, not a wildcard
            "text=OVEN": ["Door_Open", "Oven_Zone1_Temp_HH"],  # text of one, name of other
            "text=zo": ["Oven_Zone1_Temp_HH"],  # too short for a trigram: found all the same
            "text=boiler": [],
            "text=100%25": [],  # "%" is a letter too
        }
        for query, expected in cases.items():
            assert self.names(query) == expected, query

    def test_the_transitions_view_filters_the_same_way(self):
        html = self.client.get("/journal/?view=transitions&text=conveyor_J").content.decode()
        assert re.findall(r'data-transition="(\w+)"', html) == [
            "returned", "acknowledged", "raised"]
        assert "Oven_Zone1_Temp_HH" not in html


@skipUnless(POSTGRES, "the trigram indexes are PostgreSQL's")
class TrigramIndexTestCase(TestCase):
    def test_the_migration_made_the_indexes_on_the_filters_expressions(self):
        found = text_indexes()
        assert sorted(found) == NAMES
        for name, table, expression in text_search.INDEXES:
            definition = found[name]
            column = expression.split('"')[1]
            assert f"ON public.{table} USING gin (upper(" in definition, definition
            assert f"{column})" in definition and "gin_trgm_ops" in definition, definition

    def test_the_filter_can_use_them(self):
        """The index must match the SQL `icontains` compiles to, or it serves nothing:
        with the other scans priced out, the planner takes it if, and only if, it fits."""
        expected = {AlarmOccurrence: ["occurrence_name_trgm", "occurrence_text_trgm"],
                    JournalEntry: ["journal_name_trgm", "journal_text_trgm"]}
        for model, indexes in expected.items():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_indexscan = off")
            plan = model.objects.filter(text_matches("temperature")).explain()
            assert sorted(re.findall(r"Bitmap Index Scan on (\w+)", plan)) == indexes, plan

    def test_the_command_makes_them_again(self):
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX occurrence_text_trgm")  # rolled back with the test
        assert "occurrence_text_trgm" not in text_indexes()
        out = StringIO()
        call_command("journal_text_index", stdout=out)
        assert sorted(text_indexes()) == NAMES
        assert "has its indexes" in out.getvalue()

    def test_without_pg_trgm_the_migration_warns_and_goes_on(self):
        """A role that may not create the extension (no CREATE on the database, as a
        dashboard user that does not own its database): the migration's step logs a warning,
        makes no index, and leaves the transaction usable. All of it is rolled back with
        the test, the extension and the role too."""
        role = f"wdash_no_trgm_{os.getpid()}"
        AlarmOccurrence.objects.create(site_id="line-classic", alarm_name="Oil_Low",
                                       started_at=T0, last_at=T0, event_text="Oil level low")
        with connection.cursor() as cursor:
            cursor.execute("DROP EXTENSION pg_trgm CASCADE")  # the indexes go with it
            cursor.execute(f"CREATE ROLE {role} NOLOGIN")
            cursor.execute(f"GRANT ALL ON SCHEMA public TO {role}")
            cursor.execute(f"SET LOCAL ROLE {role}")
        try:
            with self.assertLogs(text_search.__name__, "WARNING") as logged, \
                    connection.schema_editor() as editor:
                text_search.create_text_indexes(None, editor)
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")  # the transaction is not aborted
                assert cursor.fetchone() == (1,)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET ROLE")
        assert "pg_trgm could not be created" in logged.output[0]
        assert "permission denied" in logged.output[0]
        assert text_indexes() == {}
        # The filter still answers, reading the table.
        assert AlarmOccurrence.objects.filter(text_matches("LEVEL")).count() == 1


@skipUnless(not POSTGRES, "SQLite's part")
class SqliteTestCase(TransactionTestCase):  # SQLite's schema editor runs outside a transaction
    def test_the_migration_does_nothing_on_sqlite(self):
        with connection.schema_editor() as editor:
            text_search.create_text_indexes(None, editor)
            text_search.drop_text_indexes(None, editor)
            text_search.create_text_indexes(None, editor)
        assert text_indexes() == {}
        out = StringIO()
        call_command("journal_text_index", stdout=out)
        assert "needs no index" in out.getvalue()
