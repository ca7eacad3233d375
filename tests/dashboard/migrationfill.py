"""Testing a data migration on the rows it fills from data already there: the database is
taken back to just before the migration, the test writes rows with the historical models
there, runs the migration and reads what it filled with the historical models after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class MigrationFill:
    """`before`: the historical models just before the migration, to write rows with."""

    def __init__(self, adding: tuple[str, str], before: Apps) -> None:
        self.adding = adding
        self.before = before

    def migrate(self) -> Apps:
        """Runs the migration; the historical models just after it, to read what it filled."""
        # A fresh executor each time: its loader must see what is applied now.
        MigrationExecutor(connection).migrate([self.adding])
        return MigrationExecutor(connection).loader.project_state([self.adding]).apps


@contextmanager
def before_migration(suffix: str) -> Iterator[MigrationFill]:
    """The database just before the dashboard's migration whose name ends in `suffix`;
    back at the latest migration afterwards, whatever happened (TransactionTestCase)."""
    executor = MigrationExecutor(connection)
    adding = next(key for key in executor.loader.disk_migrations
                  if key[0] == "dashboard" and key[1].endswith(suffix))
    before = executor.loader.get_migration(*adding).dependencies[0]
    latest = executor.loader.graph.leaf_nodes("dashboard")
    try:
        executor.migrate([before])
        old = MigrationExecutor(connection).loader.project_state([before]).apps
        yield MigrationFill(adding, old)
    finally:
        MigrationExecutor(connection).migrate(latest)
