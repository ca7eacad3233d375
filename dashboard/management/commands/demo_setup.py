"""Create the demo's users: viewer, operator, writer and admin, all with DEMO_PASSWORD; and
seed the alarm journal of the last week from the simulators' day script (dashboard/demo/seed.py).

Runs only in demo mode (WDASH_DEMO=1, as `make run` sets): a known shared password
has no place on a production server.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dashboard import roles
from dashboard.demo.seed import seed_journal

DEFAULT_PASSWORD = "demo"  # the documented demo password; demo mode only

# (user name, group or None for the superuser, what the user may do)
DEMO_USERS = [
    ("viewer", roles.VIEWERS, "may view every site"),
    ("operator", roles.OPERATORS, "may view and acknowledge alarms on every site"),
    ("writer", roles.SETPOINT_WRITERS, "may view and write setpoints on every site"),
    ("admin", None, "superuser: everything, including the admin pages"),
]


class Command(BaseCommand):
    help = "Create the demo users viewer, operator, writer and admin (only with WDASH_DEMO=1)."

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "demo_setup creates users with a shared, known password, so it runs only "
                "in demo mode (WDASH_DEMO=1, as `make run` sets)."
            )
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        with transaction.atomic():
            for username, group_name, _ in DEMO_USERS:
                self._ensure_user(username, group_name, password)
        self.stdout.write(f"Demo users (password {password!r}, from DEMO_PASSWORD):")
        for username, _, rights in DEMO_USERS:
            self.stdout.write(f"  {username:<9} {rights}")
        written = seed_journal()
        if any(written.values()):
            total = sum(written.values())
            self.stdout.write(f"Alarm journal: {total} transitions of the last week seeded.")

    def _ensure_user(self, username: str, group_name: str | None, password: str) -> None:
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_active = True
        user.is_staff = user.is_superuser = group_name is None
        user.save()
        if group_name is not None:
            user.groups.set([roles.ensure_role(group_name)])
