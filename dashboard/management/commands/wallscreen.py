"""Wall screens from the shell: create (prints the token once), revoke, list."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.models import WallScreen
from dashboard.siteconfig import get_config
from wincc_ingest.config import ConfigError


class Command(BaseCommand):
    help = "Create, revoke or list wall screens (view-only, signed in by a token)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a screen and print its token once.")
        create.add_argument("name")
        create.add_argument("--dashboard", required=True, help="dashboard id to show")
        create.add_argument(
            "--base-url", default="", help="e.g. https://dashboard.plant; printed before the path"
        )
        revoke = sub.add_parser("revoke", help="Revoke a screen's token (by name or id).")
        revoke.add_argument("screen")
        sub.add_parser("list", help="List the screens and whether they are active.")

    def handle(self, *args, **options):
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options):
        dashboard_id = options["dashboard"]
        try:
            known = get_config().dashboard(dashboard_id) is not None
        except ConfigError as exc:
            raise CommandError(f"The configuration cannot be read: {exc}") from None
        if not known:
            raise CommandError(f"No dashboard {dashboard_id!r} in the configuration.")
        screen, token = WallScreen.issue(name=options["name"], dashboard_id=dashboard_id)
        self.stdout.write(f"Created wall screen {screen.name!r} (id {screen.pk}).")
        self.stdout.write("Token (shown only now):")
        self.stdout.write(token)
        self.stdout.write("Open once on the screen:")
        self.stdout.write(options["base_url"].rstrip("/") + screen.sign_in_path(token))

    def _revoke(self, options):
        ref = options["screen"]
        screens = WallScreen.objects.filter(name=ref)
        if ref.isascii() and ref.isdigit():
            screens = screens | WallScreen.objects.filter(pk=int(ref))
        found = list(screens)
        if not found:
            raise CommandError(f"No wall screen named {ref!r} or with id {ref!r}.")
        if len(found) > 1:
            ids = ", ".join(str(s.pk) for s in found)
            raise CommandError(f"Several screens match {ref!r} (ids {ids}); revoke by id.")
        screen = found[0]
        if screen.revoked_at:
            self.stdout.write(f"Wall screen {screen.name!r} was already revoked.")
            return
        screen.revoked_at = timezone.now()
        screen.save(update_fields=["revoked_at"])
        self.stdout.write(f"Revoked wall screen {screen.name!r} (id {screen.pk}).")

    def _list(self, options):
        screens = WallScreen.objects.order_by("name", "pk")
        if not screens:
            self.stdout.write("No wall screens.")
            return
        for screen in screens:
            status = "revoked" if screen.revoked_at else "active"
            seen = screen.last_seen_at.isoformat() if screen.last_seen_at else "never"
            self.stdout.write(
                f"{screen.pk:>4}  {screen.name:<24} {screen.dashboard_id:<16} {status:<8} "
                f"last seen {seen}"
            )
