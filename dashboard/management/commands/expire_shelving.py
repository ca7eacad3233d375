"""End every shelving whose time is up, as beat does every few seconds.

    manage.py expire_shelving                       # now
    manage.py expire_shelving --at 2026-12-01T13:00Z   # as if it were then (a test's clock)
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dashboard.shelving import expire_due
from wincc_bridge.models import parse_iso


class Command(BaseCommand):
    help = "End the shelvings whose time is up (beat does this by itself)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--at", help="the time to end them by (ISO 8601; default: now)")

    def handle(self, *args, at: str | None = None, **options) -> None:
        try:
            when = parse_iso(at) if at else None
        except ValueError:
            raise CommandError(f"--at must be an ISO 8601 time, not {at!r}") from None
        ended = expire_due(when)
        self.stdout.write(f"{ended} shelving(s) ended.")
