"""A wall screen in German: its own language setting, `?lang=` in its link, the browser's
Accept-Language otherwise; the wall's own sentences (the pager, the pause, "not live", the
refusal, the strip's alarm) from the catalogue, and the whole page with its panels German."""

from __future__ import annotations

import re

from django.template.loader import render_to_string
from django.utils import translation

from dashboard.models import WallScreen
from tests.dashboard.german import ENGLISH, GERMAN, english_left, untranslated
from tests.dashboard.livedata import PlantTestCase, healthy_plant


def wall_parts(html: str) -> str:
    """The parts of a wall page its own template draws: the pager, the "not live" strip and
    notice, and the sentences wall.js writes (as their data attributes)."""
    parts = re.findall(r'<div class="wall-pager".*?</div>|<span class="wall-strip-dead".*?</b>'
                       r'.*?</span>|<div class="wall-dead".*?</div>', html, flags=re.S)
    texts = re.findall(r'data-text-\w+="([^"]*)"', html)
    return "".join(parts) + "".join(f"<p>{text}</p>" for text in texts)


class GermanWallTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        healthy_plant(self.redis)
        self.screen, self.token = WallScreen.issue(name="Leitwarte", dashboard_id="overview")
        self.client.get(f"/wall/overview/?token={self.token}")

    def test_the_screens_browser_decides_when_the_screen_has_no_language(self):
        with untranslated() as missing:
            german = self.client.get("/wall/overview/", **GERMAN)
        html = german.content.decode()
        assert german["Content-Language"] == "de" and '<html lang="de"' in html
        assert missing == set()
        english = self.client.get("/wall/overview/", **ENGLISH).content.decode()
        assert english_left(english, html, ) == []
        assert english_left(wall_parts(english), wall_parts(html)) == []
        assert "NICHT AKTUELL · Zahlen vom Stand vor <b data-last-good=" in html
        assert "ANGEHALTEN · Alarm der Priorität 1" in html
        assert 'data-text-page="Seite {page}/{pages}"' in html
        assert "<title>Wandbildschirm · Plant overview" in html

    def test_the_screens_own_language_wins_over_its_browser(self):
        WallScreen.objects.filter(pk=self.screen.pk).update(language="de")
        html = self.client.get("/wall/overview/", **ENGLISH).content.decode()
        assert '<html lang="de" data-theme="dark">' in html
        assert "Dieser Bildschirm läuft von selbst wieder an" in html
        # The settings it reads at each turn name it: another language reloads the page.
        assert self.client.get("/wall/overview/settings/", **ENGLISH).json()["language"] == "de"
        # Its stream's poll speaks it too.
        assert self.client.get("/live/poll/wall/overview/", **ENGLISH)["Content-Language"] == "de"

    def test_lang_in_the_link_overrides_and_stays_in_the_rotation(self):
        WallScreen.objects.filter(pk=self.screen.pk).update(language="en", rotation="overview,line")
        html = self.client.get("/wall/overview/?lang=de&theme=dark", **ENGLISH).content.decode()
        assert '<html lang="de" data-theme="dark">' in html
        assert 'data-next="/wall/line/?theme=dark&amp;lang=de"' in html
        assert "/live/stream/wall/overview/?lang=de&amp;theme=dark&amp;seen=" in html
        poll = self.client.get("/live/poll/wall/overview/?lang=de", **ENGLISH)
        assert poll["Content-Language"] == "de"
        settings = self.client.get("/wall/overview/settings/?lang=de", **ENGLISH).json()
        assert settings["language"] == "de" and settings["next"] == "/wall/line/?lang=de"
        english = self.client.get("/wall/overview/?lang=en", **GERMAN).content.decode()
        assert '<html lang="en"' in english and "NOT LIVE" in english

    def test_a_language_the_wall_does_not_speak_is_refused_with_a_reason(self):
        refused = self.client.get("/wall/overview/?lang=fr", **GERMAN)
        assert refused.status_code == 400
        assert ("Es gibt kein lang &#x27;fr&#x27;. Wählen Sie eines von: de, en."
                in refused.content.decode())

    def test_the_refusal_speaks_the_screens_language(self):
        self.client.logout()
        with untranslated() as missing:
            german = self.client.get("/wall/overview/?token=wrong", **GERMAN)
        assert german.status_code == 403
        html = german.content.decode()
        assert missing == set()
        assert "<h1>Dieser Wandbildschirm ist nicht angemeldet</h1>" in html
        assert "Ein Administrator kann ein neues ausstellen" in html
        english = self.client.get("/wall/overview/?token=wrong", **ENGLISH).content.decode()
        main = re.compile(r"<main.*?</main>", re.S)
        assert english_left(main.search(english)[0], main.search(html)[0],
                            allowed={"python", "manage", "py", "wallscreen", "create", "NAME",
                                     "dashboard", "ID", "token"}) == []
        linked = self.client.get("/wall/overview/?token=wrong&lang=de", **ENGLISH)
        assert '<html lang="de"' in linked.content.decode()

    def test_the_strip_says_no_alarm_and_how_many_are_shelved_in_german(self):
        with untranslated() as missing, translation.override("de"):
            html = render_to_string("partials/wall_alarm.html",
                                    {"alarm": None, "counts": {"shelved": 2}, "holding": ""})
        assert missing == set()
        assert "Kein aktiver Alarm" in html and "2 zurückgestellt" in html
