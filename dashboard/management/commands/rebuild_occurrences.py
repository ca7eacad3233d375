"""Build the alarm journal's occurrence lines again from the journal entries.

    manage.py rebuild_occurrences

The journal entries are the record; the occurrence lines (AlarmOccurrence) sum them up and
are kept as entries are written. Run this after restoring entries from a backup taken
without the occurrence table, or to check that the two agree.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dashboard.occurrences import rebuild


class Command(BaseCommand):
    help = "Build the alarm journal's occurrence lines again from the journal entries."

    def handle(self, *args, **options) -> None:
        built = rebuild()
        self.stdout.write(f"{built} occurrence(s) built from the journal.")
