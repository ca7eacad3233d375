"""GET /trend/data/: the trend's JSON (docs/trend.md), its sources and its bad input."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from itertools import pairwise
from urllib.parse import urlencode

import pytest

from dashboard import siteconfig
from dashboard.views.trend_data import NO_SUCH_PEN
from tests.dashboard.base import BaseTestCase, site_viewer
from tests.dashboard.livedata import PlantTestCase, change_site
from tests.dashboard.trenddata import (
    SLOW_ARCHIVE_SECONDS,
    minute_ago,
    patient_config,
    store_minutes,
)
from tests.fixtures.simulator import write_config

SPEED = "line-classic:Conveyor_Speed"
OVEN = "oven-unified:Oven_Zone1_Temp"


def url(*pens: str, **params) -> str:
    return "/trend/data/?" + urlencode([("pen", p) for p in pens] + list(params.items()))


class TrendDataTestCase(PlantTestCase):
    """The small plant (tests.dashboard.livedata), whose servers do not answer, and a
    private Redis (the cache, the open minutes). The line's archive is turned off in the
    configuration (the store answers for it); the oven's is asked and does not answer."""

    def setUp(self):
        super().setUp()
        change_site("line-classic", archive=False)

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

    def test_a_window_of_more_minutes_than_pixels_is_reduced_in_the_database(self):
        body = self.get(url(SPEED, start="now-3h", end="now", width=100)).json()
        points = body["pens"][0]["points"]
        assert len(points["t"]) <= 4 * 100 + 2
        assert points["t"] == sorted(points["t"])
        assert 96.0 in points["v"] and 19.0 in points["v"]  # the spike and the floor
        assert None in points["v"]  # the ten missing minutes are still a gap
        gap = points["v"].index(None)
        assert minute_ago(50) <= points["t"][gap] <= minute_ago(40)

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

    def test_an_archive_that_does_not_answer_leaves_the_store_to_answer_and_says_so(self):
        response = self.get(url(OVEN, start="now-1h"))
        assert response.status_code == 200
        (pen,) = response.json()["pens"]
        assert pen["source"] == "store"
        assert pen["note"].startswith("The WinCC archive of Curing oven did not answer")
        assert "showing the dashboard's own store instead" in pen["note"]
        assert pen["points"]["v"].count(50.0) == 1

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
            url(SPEED, start="now-9999d"): "at most 31 days",
            url(SPEED, start="now-99999d"): "outside the years 1970 to 9999",
            url(SPEED, start="2026-03-01T06:00:00Z", end="2026-04-02T06:00:00Z"): "at most 31 days",
            url(SPEED, start="now", end="now-1h"): "start must be before its end",
            url(SPEED, start="now-1h", end="now-1h"): "start must be before its end",
            url(SPEED, width="99"): "width must be",
            url(SPEED, width="4001"): "width must be",
            url(SPEED, width="wide"): "width must be",
            url(SPEED, compare="2d"): "compare must be",
            url(SPEED, start="now-100d", end="now-90d"): "oldest values the dashboard keeps",
            url(SPEED, start="now-99999999999d"): "is not a time",
            url(SPEED, start="now-999999999d"): "outside the years 1970 to 9999",
            url(SPEED, start="0001-01-01T00:00:00Z"): "outside the years",
            url(SPEED, start="2026-13-01T00:00:00Z"): "is not a time",
            url("line-classic:" + "x" * 5000): "no pen",
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


class TrendFromArchiveTestCase(BaseTestCase):
    """The three sites on the simulator, whose archives hold 1-second history computed from
    its plant model (with gaps and bad stretches before its reset)."""

    @pytest.fixture(autouse=True)
    def _simulator(self, sim, redis_client, tmp_path, monkeypatch):
        from django.conf import settings

        for name, value in sim.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(settings, "TREND_ARCHIVE_TIMEOUT_SECONDS", SLOW_ARCHIVE_SECONDS)
        monkeypatch.setattr(settings, "WINCC_CONFIG",
                            str(patient_config(write_config(sim, tmp_path / "c.json"))))
        siteconfig.reload_config()
        self.sim, self.redis = sim, redis_client
        yield
        siteconfig.get_config.cache_clear()

    def get(self, address: str):
        self.client.force_login(self.viewer)
        return self.client.get(address)

    def test_eight_pens_over_a_week_come_from_the_archives_bounded_by_the_width(self):
        pens = ["oven-unified:Oven_Zone1_Temp", "oven-unified:Oven_Zone2_Temp",
                "oven-unified:Oven_Zone3_Temp", "line-classic:Conveyor_Speed",
                "line-classic:Motor1_Current", "utilities-restv1:Tank_Level",
                "utilities-restv1:Tank_Outflow", "utilities-restv1:Motor2_Current"]
        response = self.get(url(*pens, start="now-7d", end="now-1h", width=400))
        assert response.status_code == 200
        body = response.json()
        assert [pen["id"] for pen in body["pens"]] == pens
        for pen in body["pens"]:
            assert pen["source"] == "archive", pen["note"]
            assert pen["source_label"] == "WinCC archive"
            points = pen["points"]
            assert 100 < len(points["t"]) <= 4 * 400 + 2
            assert points["t"] == sorted(points["t"])
            inside = [t for t in points["t"] if body["start"] <= t <= body["end"]]
            assert inside[0] - body["start"] < 7 * 86400 / 400 * 2
            assert "thinned" in pen["note"]  # a week at 1 s is more than 1,600 values
        zone1 = body["pens"][0]
        temps = [v for v in zone1["points"]["v"] if v is not None]
        assert min(temps) > 150 and max(temps) < 250  # zone 1 holds about 180 °C
        everything = [p for pen in body["pens"] for p in zip(pen["points"]["v"],
                                                             pen["points"]["q"], strict=True)]
        # The archive's gaps and bad stretches come through as gaps, marked bad.
        assert any(v is None and q == "b" for v, q in everything)
        assert all(q in "gub" for _, q in everything)

    def test_a_short_window_has_every_second(self):
        body = self.get(url("oven-unified:Oven_Zone1_Temp", start="now-5min", end="now-4min",
                            width=1000)).json()
        (pen,) = body["pens"]
        assert pen["source"] == "archive" and pen["note"] == ""
        points = list(zip(pen["points"]["t"], pen["points"]["v"], strict=True))
        inside = [(t, v) for t, v in points if body["start"] <= t <= body["end"]]
        assert inside
        # A second apart, but across a gap of the archive (one null marks it).
        for (t0, v0), (t1, _) in pairwise(inside):
            assert t1 - t0 == 1 or v0 is None, (t0, t1)

    def test_an_archive_that_errs_leaves_the_store_to_answer_and_says_so(self):
        from tests.dashboard.trenddata import minute_ago, store_minutes

        store_minutes("line-classic", "Conveyor_Speed", {minute_ago(3): 12.0})
        store_minutes("utilities-restv1", "Tank_Level", {minute_ago(3): 40.0})
        self.sim.set_faults(archive_error=["classic", "rest-v1"])
        body = self.get(url("line-classic:Conveyor_Speed", "utilities-restv1:Tank_Level",
                            "utilities-restv1:Tank_Outflow", start="now-1h")).json()
        speed, level, outflow = body["pens"]
        for pen in (speed, level):
            assert pen["source"] == "store"
            assert pen["note"].startswith("The WinCC archive has no values of this tag here")
            assert pen["note"].endswith("showing the dashboard's own store instead.")
        assert 12.0 in speed["points"]["v"] and 40.0 in level["points"]["v"]
        # Nothing in either: an empty pen that says why.
        assert outflow["source"] == "none" and outflow["points"]["t"] == []
        assert "not available" in outflow["note"]

    def test_a_classic_site_reads_the_tag_archive_its_configuration_names(self):
        change_site("line-classic", tag_archive="ProcessValueArchive")
        (pen,) = self.get(url(SPEED, start="now-2h", end="now-1h", width=200)).json()["pens"]
        assert pen["source"] == "archive", pen["note"]
        assert pen["points"]["t"]
        change_site("line-classic", tag_archive="NoSuchArchive")
        (pen,) = self.get(url(SPEED, start="now-3h", end="now-2h", width=200)).json()["pens"]
        assert pen["source"] != "archive"
        assert "has no tag logging archive NoSuchArchive" in pen["note"], pen["note"]

    def test_a_repeated_window_is_answered_from_the_cache(self):
        end = int(time.time()) // 3600 * 3600 - 3600
        address = url("oven-unified:Oven_Zone1_Temp",
                      start=datetime.fromtimestamp(end - 3600, UTC).isoformat(),
                      end=datetime.fromtimestamp(end, UTC).isoformat())
        first = self.get(address)
        assert first.json()["pens"][0]["source"] == "archive"
        requests = len(self.sim.requests_log())
        second = self.get(address)
        assert second.json()["pens"] == first.json()["pens"]
        assert len(self.sim.requests_log()) == requests  # the archive was not asked again
        assert self.redis.keys("wdash:trend:oven-unified:*")
