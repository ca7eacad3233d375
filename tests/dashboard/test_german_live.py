"""The live pages and their streamed fragments in German: every message in the catalogue, no
English left, values with a decimal comma. One render per language: tests/dashboard/test_live.py."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from django.utils import translation

from dashboard.models import AuditEntry
from dashboard.panels.renderers import format_value
from dashboard.templatetags.plant_time import moment
from tests.dashboard import livedata
from tests.dashboard.german import ENGLISH, GERMAN, english_left, untranslated
from tests.dashboard.livedata import (
    PlantTestCase,
    alarm,
    healthy_plant,
    publish,
    put_alarm,
    put_health,
    put_value,
)
from tests.dashboard.test_stream import FRAGMENT_EVENT, next_chunk_with
from wincc_bridge.models import AlarmState
from wincc_ingest.config import TagConfig

PAGES = ["/", "/d/overview/", "/alarms/", "/sites/", "/alarms/?state=shelved",
         "/alarms/?priority=low"]
# Plant words the test data shows beside the configuration's: alarm names, an alarm's event
# text ("<name> text") and instruction, a failing site's error as the poller recorded it;
# and "Normal", which German writes the same.
PLANT_DATA = {"Door", "Open", "text", "Check", "the", "burner", "timed", "out", "Normal"}

# The page's frame (templates/base.html: menu, account, the stream's state) is not drawn by
# the live pages' templates: it is left out of the comparison.
_FRAME = re.compile(
    r"<head>.*?</head>|<nav class=\"menu\".*?</nav>|<div class=\"brand\">.*?</div>"
    r"|<div class=\"stream\".*?</div>|<div class=\"account\">.*?</div>",
    re.S,
)


def live_parts(html: bytes) -> str:
    return _FRAME.sub("", html.decode())


def busy_plant(r) -> None:
    """Something of everything: a current and a failing site, a shelved alarm, alarms
    raised today and days ago, returned and acknowledged ones."""
    healthy_plant(r)
    put_health(r, "line-classic", ok=False, reason="login refused", error="timed out")
    earlier = livedata.now() - timedelta(days=2)
    put_alarm(r, alarm(name="Oven_Zone2_Temp_H", priority=7, raise_time=earlier,
                       clear_time=earlier + timedelta(minutes=3),
                       ack_time=earlier + timedelta(minutes=4),
                       state=AlarmState.ACKNOWLEDGED))
    put_alarm(r, alarm(name="Oven_Door_Open", priority=3, state=AlarmState.SHELVED))


class GermanPagesTestCase(PlantTestCase):
    def test_every_live_page_is_german_with_nothing_left_in_english(self):
        busy_plant(self.redis)
        self.client.force_login(self.operator)
        for url in PAGES:
            with self.subTest(url=url), untranslated() as missing:
                german = self.client.get(url, **GERMAN)
                english = self.client.get(url, **ENGLISH)
                assert german.status_code == english.status_code == 200
                assert missing == set()
                assert english_left(live_parts(english.content), live_parts(german.content),
                                    allowed=PLANT_DATA) == []

    def test_the_poll_answers_in_the_pages_language(self):
        busy_plant(self.redis)
        self.client.force_login(self.viewer)
        for page in ("overview", "alarms", "sites", "dashboard/overview"):
            with self.subTest(page=page), untranslated() as missing:
                german = self.client.get(f"/live/poll/{page}/", **GERMAN)
                english = self.client.get(f"/live/poll/{page}/", **ENGLISH)
                assert missing == set()
                assert english_left(english.content, german.content, allowed=PLANT_DATA) == []

    def test_values_with_a_decimal_comma_and_sentences_in_german(self):
        busy_plant(self.redis)
        overview = self.get_as(self.viewer, "/d/overview/", **GERMAN).content.decode()
        assert '<span class="value">182,5</span>' in overview
        assert 'data-value="182.5"' in overview  # the chart's raw number stays a number
        assert "<b>Assembly line</b> ist VERALTET: 3 fehlgeschlagene Abfragen: timed out" in (
            overview)
        assert '<small class="short-reason">Anmeldung abgewiesen</small>' in overview
        assert "Letzte 10 min" in overview
        assert '<span class="quality">GUT</span>' in overview
        sites = self.get_as(self.viewer, "/sites/", **GERMAN).content.decode()
        assert '<span class="status-word">AKTUELL</span>' in sites
        assert '<span class="status-word">GESTÖRT</span>' in sites

    def test_an_older_alarm_reads_its_date_the_german_way(self):
        busy_plant(self.redis)
        earlier = (livedata.now() - timedelta(days=2)).astimezone(UTC)
        html = self.get_as(self.operator, "/alarms/", **GERMAN).content.decode()
        assert f">{earlier:%d.%m.%Y %H:%M}</time>" in html
        assert "gekommen <time" in html and "quittiert <time" in html
        assert ">Quittieren</button>" in html
        english = self.get_as(self.operator, "/alarms/", **ENGLISH).content.decode()
        assert f">{earlier:%Y-%m-%d %H:%M}</time>" in english

    def test_a_site_never_polled_says_so_in_german(self):
        put_health(self.redis, "oven-unified")
        html = self.get_as(self.viewer, "/", **GERMAN).content.decode()
        assert ("<b>Assembly line</b> ist VERALTET: noch nie abgefragt: kein Poller hat sich "
                "für diese Anlage gemeldet") in html

    def test_a_stale_site_gives_the_seconds_in_german(self):
        healthy_plant(self.redis)
        put_health(self.redis, "oven-unified", age=30, interval=0.5)
        html = self.get_as(self.viewer, "/", **GERMAN).content.decode()
        assert "seit mehr als 1,5 s keine erfolgreiche Abfrage" in html

    def test_refusals_of_a_stream_and_of_the_silence_in_german(self):
        self.client.force_login(self.viewer)
        assert self.client.get("/live/poll/nothing/", **GERMAN).content.decode() == (
            "Diese Seite gibt es nicht.")
        refused = self.client.post("/alarms/silence/", {"minutes": "7"}, **GERMAN)
        assert refused.status_code == 400
        assert refused.content.decode().startswith("Fehlerhafte Anfrage: ")
        # The record stays English, Django's own words for the field included.
        recorded = AuditEntry.objects.get(action="silence").message
        assert recorded.startswith("Malformed request: the field 'minutes': Select a valid"), (
            recorded)


class GermanStreamTestCase(PlantTestCase):
    async def test_the_stream_speaks_german_with_a_decimal_comma(self):
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        response = await self.async_client.get("/live/stream/dashboard/overview/",
                                               headers={"Accept-Language": "de"})
        chunks = aiter(response.streaming_content)
        try:
            snapshot = await anext(chunks)
            assert b'<span class="value">182,5</span>' in snapshot
            assert b"Letzte 10 min" in snapshot
            assert b"<th>Letzte erfolgreiche Abfrage</th>" in snapshot
            assert b"<span class=\"quality\">GUT</span>" in snapshot
            put_value(self.redis, "oven-unified", "Oven_Zone1_Temp", 205.25)
            publish(self.redis, "oven-unified", tags=["Oven_Zone1_Temp"])
            change = await next_chunk_with(chunks, b'data-value="205.25"')
            assert b'<span class="value">205,2</span>' in change
            assert b"205.2<" not in change
        finally:
            await chunks.aclose()


def test_values_as_each_language_writes_them():
    tag = TagConfig(name="T", label="T", decimals=2)
    with translation.override("de"):
        assert format_value(2.966, tag) == "2,97"  # rounded, not cut off
        assert format_value(1234567.5, tag) == "1234567,50"  # no thousand separators
        assert format_value(12, tag) == "12"
        assert (format_value(True, tag), format_value(False, tag)) == ("EIN", "AUS")
        assert format_value(None, tag) == "***"
    with translation.override("en"):
        assert format_value(2.966, tag) == "2.97"
        assert (format_value(True, tag), format_value(False, tag)) == ("ON", "OFF")


def test_an_alarm_time_today_and_on_an_earlier_day():
    now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    earlier = datetime(2026, 12, 3, 14, 3, 22, tzinfo=UTC)
    with translation.override("de"):
        assert moment(earlier, now) == "03.12.2026 14:03"
        assert moment(now - timedelta(minutes=1), now) == "08:59:00"
    with translation.override("en"):
        assert moment(earlier, now) == "2026-12-03 14:03"


class GermanFirstSnapshotTestCase(PlantTestCase):
    async def first_chunk(self, url: str, language: str) -> bytes:
        return await livedata.first_stream_chunk(self.async_client, url,
                                                 **{"Accept-Language": language})

    async def test_a_german_page_and_its_stream_render_the_same_bytes(self):
        healthy_plant(self.redis)
        await self.async_client.aforce_login(self.viewer)
        page = await self.async_client.get("/sites/", headers={"Accept-Language": "de"})
        url = html.unescape(re.search(r'sse-connect="([^"]+)"', page.content.decode()).group(1))
        # What the German page shows is left out of its German stream's first snapshot...
        assert FRAGMENT_EVENT.findall(await self.first_chunk(url, "de")) == []
        # ...and an English stream of the same page is another variant: everything is sent.
        english = await self.first_chunk(url, "en")
        assert len(FRAGMENT_EVENT.findall(english)) == len(url.split("seen=")[1]) // 8

