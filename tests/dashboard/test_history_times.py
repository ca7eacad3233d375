"""/trend/, /journal/ and /kpi/ take a point in time alike (dashboard.moments): the same
formats, the same sentence for a mistake, UTC said the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape

from dashboard import moments
from tests.dashboard.livedata import PlantTestCase, healthy_plant
from tests.dashboard.test_trend_page import chart_of

ZONE1 = "oven-unified:Oven_Zone1_Temp"
HINT = "From and To are UTC"


def pages(start: str) -> dict[str, str]:
    """Each history page asked for `start` to now."""
    return {
        "trend": f"/trend/?pen={ZONE1}&start={start}&end=now",
        "journal": f"/journal/?since={start}",
        "kpi": f"/kpi/?range=custom&start={start}&end=now",
    }


class HistoryTimesTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        healthy_plant(self.redis)
        self.client.force_login(self.viewer)

    def get(self, address: str):
        return self.client.get(address.replace("+", "%2B"))

    def test_every_page_takes_every_common_format(self):
        at = datetime.now(UTC) - timedelta(hours=3)
        formats = [at.strftime("%Y-%m-%dT%H:%M"),  # as a datetime-local box sends it
                   at.strftime("%Y-%m-%d %H:%M:%S"), at.strftime("%Y-%m-%dT%H:%MZ"),
                   (at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M+01:00"), "now-3h",
                   "now-180min"]
        for text in formats:
            for page, address in pages(text).items():
                response = self.get(address)
                assert response.status_code == 200, (page, text)
                assert HINT in response.content.decode(), page

    def test_every_page_refuses_a_bad_time_with_the_same_sentence(self):
        cases = {"yesterday": "From (UTC): “yesterday” is not a time; write it as",
                 "2026-13-01T00:00": "From (UTC): “2026-13-01T00:00” is not a time;",
                 "now-5x": "From (UTC): “now-5x” is not a time;",
                 "0001-01-01T00:00": "is outside the years 1970 to 9999.",
                 "now-999999999d": "is outside the years 1970 to 9999.",
                 "9" * 65: "From (UTC): A time is at most 64 characters long."}
        for text, sentence in cases.items():
            for page, address in pages(text).items():
                response = self.get(address)
                assert response.status_code == 400, (page, text)
                assert sentence in unescape(response.content.decode()), (page, text)

    def test_a_time_without_a_zone_is_utc_on_every_page(self):
        now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
        assert moments.parse("2026-12-01T06:00", now) == datetime(2026, 12, 1, 6, tzinfo=UTC)
        assert moments.parse("2026-12-01T07:00+01:00", now) == datetime(2026, 12, 1, 6,
                                                                        tzinfo=UTC)
        assert moments.parse("2026-12-01", now) == datetime(2026, 12, 1, tzinfo=UTC)
        assert moments.parse(" now-8h ", now) == now - timedelta(hours=8)

    def test_the_custom_ranges_are_datetime_local_boxes(self):
        for address in ("/journal/", "/kpi/", f"/trend/?pen={ZONE1}"):
            html = self.get(address).content.decode()
            assert html.count('type="datetime-local"') == 2, address
            assert html.count('aria-describedby="time-hint"') == 2, address

    def test_the_trend_forms_box_counts_over_its_live_span(self):
        at = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
        box = at.strftime("%Y-%m-%dT%H:%M")
        html = self.get(f"/trend/?pen={ZONE1}&start=now-8h&start={box}&end=now&end=").content
        chart = chart_of(html.decode())
        assert (chart["start"], chart["end"]) == (at.strftime("%Y-%m-%dT%H:%M:%SZ"), "now")
        assert f'value="{box}:00"' in html.decode()  # shown back in its box, in UTC
        html = self.get(f"/trend/?pen={ZONE1}&start=now-8h&start=&end=now&end=").content
        chart = chart_of(html.decode())
        assert (chart["start"], chart["end"]) == ("now-8h", "now")
        assert '<input type="hidden" name="start" value="now-8h">' in html.decode()
