"""`manage.py wallscreen create | revoke | list`: tokens shown once, stored hashed, revocable."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

from django.core.management import CommandError, call_command

from dashboard.models import WallScreen
from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import BaseTestCase


def wallscreen(*args: str) -> str:
    out = io.StringIO()
    call_command("wallscreen", *args, stdout=out)
    return out.getvalue()


class WallScreenCommandTestCase(SitesConfigured, BaseTestCase):
    def create(self, name: str = "Control room left") -> tuple[WallScreen, str, str]:
        lines = wallscreen("create", name, "--dashboard", "overview",
                           "--base-url", "https://dash.plant/").splitlines()
        token, url = lines[2], lines[4]
        return WallScreen.objects.filter(name=name).latest("pk"), token, url

    def test_create_prints_the_token_once_and_stores_only_its_hash(self):
        screen, token, url = self.create()
        assert token not in screen.token_hash
        assert WallScreen.for_token(token) == screen
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", "dash.plant")
        assert parts.path == "/wall/overview/"
        assert parse_qs(parts.query)["token"] == [token]
        assert token not in wallscreen("list")

    def test_unknown_dashboard_is_refused(self):
        with self.assertRaisesMessage(CommandError, "No dashboard 'nope'"):
            wallscreen("create", "Left", "--dashboard", "nope")
        assert not WallScreen.objects.exists()

    def test_revoke_by_name_or_id(self):
        _, left_token, _ = self.create("Left")
        right, right_token, _ = self.create("Right")
        assert "Revoked wall screen 'Left'" in wallscreen("revoke", "Left")
        assert WallScreen.for_token(left_token) is None
        assert WallScreen.for_token(right_token) == right
        wallscreen("revoke", str(right.pk))
        assert WallScreen.for_token(right_token) is None
        assert "already revoked" in wallscreen("revoke", "Left")
        listing = wallscreen("list")
        assert listing.count("revoked") == 2

    def test_revoke_refuses_unknown_and_ambiguous_names(self):
        self.create("Twin")
        self.create("Twin")
        with self.assertRaisesMessage(CommandError, "Several screens match 'Twin'"):
            wallscreen("revoke", "Twin")
        with self.assertRaisesMessage(CommandError, "No wall screen named '²'"):
            wallscreen("revoke", "²")
        with self.assertRaisesMessage(CommandError, "No wall screen named 'Ghost'"):
            wallscreen("revoke", "Ghost")
        assert WallScreen.objects.filter(revoked_at__isnull=True).count() == 2

    def test_list_when_empty(self):
        assert wallscreen("list").strip() == "No wall screens."

    def test_create_with_settings_and_change_them_later(self):
        wallscreen("create", "Hall", "--dashboard", "overview", "--rotation", "overview",
                   "--seconds", "20", "--theme", "light", "--no-pause-on-alarm", "--sound",
                   "--sound-priority", "2", "--language", "de")
        screen = WallScreen.objects.get(name="Hall")
        assert screen.settings() == {"rotation": "overview", "page_seconds": 20,
                                     "theme": "light", "language": "de", "pause_on_alarm": False,
                                     "sound": True, "sound_priority": 2}
        out = wallscreen("set", "Hall", "--seconds", "60", "--pause-on-alarm")
        assert "page_seconds=60" in out and "pause_on_alarm=True" in out
        screen.refresh_from_db()
        assert (screen.page_seconds, screen.pause_on_alarm, screen.theme) == (60, True, "light")
        listing = wallscreen("list")
        assert ("rotation overview every 60 s, light, pause on alarm, sound on to priority 2"
                in listing)

    def test_bad_settings_are_refused_and_nothing_changes(self):
        with self.assertRaisesMessage(CommandError, "page_seconds: Ensure this value is greater"):
            wallscreen("create", "Hall", "--dashboard", "overview", "--seconds", "1")
        assert not WallScreen.objects.exists()
        screen, _, _ = self.create("Hall")
        with self.assertRaisesMessage(CommandError, "No dashboard 'nope'"):
            wallscreen("set", "Hall", "--rotation", "overview nope")
        with self.assertRaisesMessage(CommandError, "No dashboard 'gone'"):
            wallscreen("set", "Hall", "--dashboard", "gone")
        with self.assertRaisesMessage(CommandError, "less than or equal to 86400"):
            wallscreen("set", "Hall", "--seconds", "86401")
        with self.assertRaisesMessage(CommandError, "Nothing to change"):
            wallscreen("set", "Hall")
        screen.refresh_from_db()
        assert screen.settings() == WallScreen(name="x").settings()  # the defaults, untouched
