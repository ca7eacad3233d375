"""Wall screens from the shell: create (prints the token once), change settings, revoke, list."""

from __future__ import annotations

import argparse

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard import languages, wallscreens
from dashboard.models import WallScreen


def _add_settings(parser) -> None:
    """The per-screen settings; one not given keeps its default (create) or value (set)."""
    parser.add_argument(
        "--rotation", help="dashboard ids to rotate through, in order, e.g. 'overview,oven'"
    )
    parser.add_argument(
        "--seconds", type=int, dest="page_seconds",
        help=f"seconds per page ({WallScreen.MIN_PAGE_SECONDS} to {WallScreen.MAX_PAGE_SECONDS}"
             ", default 30)",
    )
    parser.add_argument("--theme", choices=[key for key, _ in WallScreen.THEMES])
    parser.add_argument("--language", choices=["", *sorted(languages.CODES)],
                        help="en or de; '' (the default): as the screen's browser asks")
    parser.add_argument(
        "--pause-on-alarm", action=argparse.BooleanOptionalAction,
        help="stay on a dashboard while it holds an unacknowledged priority-1 alarm (default on)",
    )
    parser.add_argument(
        "--sound", action=argparse.BooleanOptionalAction,
        help="sound unacknowledged alarms on this screen (default off)",
    )
    parser.add_argument(
        "--sound-priority", type=int, dest="sound_priority",
        choices=[rank for rank, _ in WallScreen.SOUND_PRIORITIES],
        help="the least urgent priority rank that sounds (1 = priority 1 only, default 5: all)",
    )


class Command(BaseCommand):
    help = "Create, change, revoke or list wall screens (view-only, signed in by a token)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a screen and print its token once.")
        create.add_argument("name")
        create.add_argument("--dashboard", required=True, help="dashboard id to open on")
        create.add_argument(
            "--base-url", default="", help="e.g. https://dashboard.plant; printed before the path"
        )
        _add_settings(create)
        change = sub.add_parser(
            "set", help="Change a screen's settings; the screen takes them at its next page."
        )
        change.add_argument("screen", help="name or id")
        change.add_argument("--dashboard", help="dashboard id to open on")
        _add_settings(change)
        revoke = sub.add_parser("revoke", help="Revoke a screen's token (by name or id).")
        revoke.add_argument("screen")
        sub.add_parser("list", help="List the screens, their settings and whether they are active.")

    def handle(self, *args, **options):
        getattr(self, f"_{options['action']}")(options)

    def _settings(self, options) -> dict:
        chosen = {k: options[k] for k in WallScreen.SETTINGS if options.get(k) is not None}
        try:
            if "rotation" in chosen:
                chosen["rotation"] = wallscreens.check_rotation(chosen["rotation"])
            if options.get("dashboard") is not None:
                wallscreens.check_dashboards([options["dashboard"]])
        except wallscreens.UnknownDashboard as exc:
            raise CommandError(str(exc)) from None
        return chosen

    def _create(self, options):
        settings = self._settings(options)
        try:
            screen, token = WallScreen.issue(
                name=options["name"], dashboard_id=options["dashboard"], **settings
            )
        except ValidationError as exc:
            raise CommandError(_sentence(exc)) from None
        self.stdout.write(f"Created wall screen {screen.name!r} (id {screen.pk}).")
        self.stdout.write("Token (shown only now):")
        self.stdout.write(token)
        self.stdout.write("Open once on the screen:")
        self.stdout.write(options["base_url"].rstrip("/") + screen.sign_in_path(token))

    def _set(self, options):
        screen = self._find(options["screen"])
        changed = self._settings(options)
        if options.get("dashboard") is not None:
            changed["dashboard_id"] = options["dashboard"]
        if not changed:
            raise CommandError("Nothing to change: give at least one setting.")
        for field, value in changed.items():
            setattr(screen, field, value)
        try:
            screen.full_clean(exclude=["created_by"])
        except ValidationError as exc:
            raise CommandError(_sentence(exc)) from None
        screen.save(update_fields=list(changed))
        self.stdout.write(f"Changed wall screen {screen.name!r} (id {screen.pk}): "
                          + ", ".join(f"{k}={v}" for k, v in changed.items()))

    def _find(self, ref: str) -> WallScreen:
        screens = WallScreen.objects.filter(name=ref)
        if ref.isascii() and ref.isdigit():
            screens = screens | WallScreen.objects.filter(pk=int(ref))
        found = list(screens)
        if not found:
            raise CommandError(f"No wall screen named {ref!r} or with id {ref!r}.")
        if len(found) > 1:
            ids = ", ".join(str(s.pk) for s in found)
            raise CommandError(f"Several screens match {ref!r} (ids {ids}); name one by id.")
        return found[0]

    def _revoke(self, options):
        screen = self._find(options["screen"])
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
            pause = "pause on alarm" if screen.pause_on_alarm else "no pause"
            self.stdout.write(
                f"{screen.pk:>4}  {screen.name:<24} {screen.dashboard_id:<16} {status:<8} "
                f"last seen {seen}  rotation {', '.join(screen.dashboards())} "
                f"every {screen.page_seconds} s, {screen.theme}, {pause}, "
                f"sound {f'on to priority {screen.sound_priority}' if screen.sound else 'off'}"
            )


def _sentence(error: ValidationError) -> str:
    return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
