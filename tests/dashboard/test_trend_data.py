"""GET /trend/data/: the trend's JSON (docs/trend.md), its sources and its bad input."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from dashboard.views.trend_data import NO_SUCH_PEN
from tests.dashboard.livedata import PlantTestCase
from tests.dashboard.trenddata import minute_ago, site_viewer, store_minutes

SPEED = "line-classic:Conveyor_Speed"
OVEN = "oven-unified:Oven_Zone1_Temp"


def url(*pens: str, **params) -> str:
    return "/trend/data/?" + urlencode([("pen", p) for p in pens] + list(params.items()))


class TrendDataTestCase(PlantTestCase):
    """The small plant (tests.dashboard.livedata), whose servers do not answer, and a
    private Redis (the cache, the open minutes)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.line_viewer = site_viewer("line-classic", "line_viewer")
        now = time.time()
        # Two hours of minutes with a spike and a gap of ten missing minutes.
        values: dict[float, float | None] = {minute_ago(m, now): 20.0 for m in range(1, 121)
                                             if not 40 <= m < 50}
        values[minute_ago(90, now)] = 95.0
        store_minutes("line-classic", "Conveyor_Speed", values)
        store_minutes("oven-unified", "Oven_Zone1_Temp", {minute_ago(5, now): 50.0})

    def get(self, address: str, user=None):
        self.client.force_login(user or self.viewer)
        return self.client.get(address)

    def test_anonymous_is_sent_to_sign_in(self):
        response = self.client.get(url(SPEED))
        assert response.status_code == 302
        assert "/login/" in response["Location"]

    def test_answers_the_contract_from_the_store(self):
        response = self.get(url(SPEED, start="now-3h", end="now", width=500))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["live"] is True
        assert body["end"] - body["start"] == 3 * 3600
        (pen,) = body["pens"]
        assert pen["id"] == SPEED
        assert pen["site"] == "line-classic" and pen["tag"] == "Conveyor_Speed"
        assert pen["label"] == "Conveyor speed" and pen["unit"] == "m/min"
        assert set(pen["limits"]) == {"ll", "l", "h", "hh"}
        assert pen["source"] == "store"
        assert pen["source_label"] == "dashboard store, 1-minute min/max/avg"
        assert pen["compare"] is None
        points = pen["points"]
        assert len(points["t"]) == len(points["v"]) == len(points["q"])
        assert points["t"] == sorted(points["t"])
        assert 96.0 in points["v"]  # the spike's maximum survives
        assert None in points["v"]  # the ten missing minutes are a gap
        gap = points["v"].index(None)
        assert points["t"][gap] == minute_ago(50) + 60 or points["t"][gap] > minute_ago(51)

    def test_size_is_bounded_by_the_width(self):
        body = self.get(url(SPEED, start="now-3h", end="now", width=100)).json()
        assert len(body["pens"][0]["points"]["t"]) <= 4 * 100 + 2

    def test_compare_overlays_the_window_a_day_earlier(self):
        body = self.get(url(SPEED, start="now-1h", end="now", compare="1d")).json()
        compare = body["pens"][0]["compare"]
        assert compare["offset_s"] == 86400
        assert compare["points"]["t"] == []  # nothing stored yesterday
        body = self.get(url(SPEED, start="now-25h", end="now-23h", compare="1d")).json()
        assert body["pens"][0]["compare"]["points"]["t"] == []
        assert body["live"] is False

    def test_a_tag_with_nothing_stored_says_so(self):
        response = self.get(url("line-classic:Conveyor_Running", start="now-1h"))
        body = response.json()
        assert response.status_code == 200, body
        pen = body["pens"][0]
        assert pen["source"] == "none" and pen["source_label"] == "no history"
        assert "holds no values" in pen["note"]

    def test_pens_of_several_sites_in_the_order_asked(self):
        body = self.get(url(OVEN, SPEED, start="now-1h")).json()
        assert [pen["id"] for pen in body["pens"]] == [OVEN, SPEED]
        assert 50.0 in body["pens"][0]["points"]["v"]

    def test_iso_times_with_a_zone(self):
        response = self.get(url(SPEED, start="2026-03-01T06:00:00Z",
                                end="2026-03-01T14:00:00+01:00"))
        # 400 only when the window is beyond the store's retention, which it may be: either
        # way the times were read.
        body = response.json()
        if response.status_code == 200:
            assert body["start"] == 1772344800 and body["end"] == 1772370000
        else:
            assert "oldest values" in body["detail"]

    def test_a_viewer_of_one_site_never_gets_another_site_s_data(self):
        own = self.get(url(SPEED, start="now-3h"), self.line_viewer)
        assert own.status_code == 200
        other = self.get(url(OVEN, start="now-3h"), self.line_viewer)
        unknown = self.get(url("oven-unified:No_Such_Tag", start="now-3h"),
                           self.line_viewer)
        assert other.status_code == unknown.status_code == 400
        assert other.json()["detail"] == NO_SUCH_PEN.format(pen=OVEN)
        assert "50.0" not in other.content.decode()
        # The same sentence for a pen that exists and one that does not: nothing leaks.
        assert other.json()["detail"].replace(OVEN, "X") == (
            unknown.json()["detail"].replace("oven-unified:No_Such_Tag", "X"))
        mixed = self.get(url(SPEED, OVEN), self.line_viewer)
        assert mixed.status_code == 400
        assert self.get(url(SPEED), self.outsider).status_code == 400

    def test_bad_input_is_a_400_with_a_sentence(self):
        cases = {
            url(): "at least one pen",
            url("nocolon"): "no pen 'nocolon'",
            url("no-site:Conveyor_Speed"): "no pen",
            url(*[f"line-classic:Tag{i}" for i in range(9)]): "at most 8 pens",
            url(SPEED, start="yesterday"): "is not a time",
            url(SPEED, start="2026-03-01T06:00:00"): "no time zone",
            url(SPEED, start="now", end="now-1h"): "start must be before its end",
            url(SPEED, start="now-1h", end="now-1h"): "start must be before its end",
            url(SPEED, width="99"): "width must be",
            url(SPEED, width="4001"): "width must be",
            url(SPEED, width="wide"): "width must be",
            url(SPEED, compare="2d"): "compare must be",
            url(SPEED, start="now-100d", end="now-90d"): "oldest values the dashboard keeps",
            url(SPEED, start="now-99999999999d"): "is not a time",
        }
        for address, sentence in cases.items():
            response = self.get(address)
            assert response.status_code == 400, address
            detail = response.json()["detail"]
            assert sentence.lower() in detail.lower(), (address, detail)
            assert detail.endswith("."), detail

    def test_only_get(self):
        self.client.force_login(self.viewer)
        assert self.client.post(url(SPEED)).status_code == 405
