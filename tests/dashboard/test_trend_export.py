"""GET /trend/export.csv: every value of the trend's pens in its window, streamed."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from asgiref.sync import sync_to_async

from dashboard import siteconfig
from tests.dashboard.base import site_viewer
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


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def url(*pens: str, **params) -> str:
    return "/trend/export.csv?" + urlencode([("pen", p) for p in pens] + list(params.items()))


class TrendExportTestCase(PlantTestCase):
    """The small plant, whose servers do not answer: the store answers."""

    def setUp(self):
        super().setUp()
        change_site("line-classic", archive=False)

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.line_viewer = site_viewer("line-classic", "line_viewer")
        now = time.time()
        # More minutes than one chunk of the store (sources.STORE_CHUNK).
        store_minutes("line-classic", "Conveyor_Speed",
                      {minute_ago(m, now): float(m) for m in range(1, 2501)})
        store_minutes("oven-unified", "Oven_Zone1_Temp", {minute_ago(3, now): 180.5},
                      quality="u")

    async def read(self, address: str, user=None):
        await self.async_client.aforce_login(user or self.viewer)
        response = await self.async_client.get(address)
        if not response.streaming:
            return response, []
        body = b"".join([chunk async for chunk in response.streaming_content])
        return response, list(csv.reader(io.StringIO(body.decode())))

    async def test_exports_every_stored_minute_of_the_window_streamed(self):
        response, rows = await self.read(url(SPEED, OVEN, start="now-2d", end="now"))
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="trend-')
        header, *data = rows
        assert header[:8] == ["time", "site", "tag", "label", "unit", "value", "quality",
                              "source"]
        speed = [row for row in data if row[2] == "Conveyor_Speed"]
        assert len(speed) == 2500
        assert [row[0] for row in speed] == sorted(row[0] for row in speed)
        assert speed[0][0].endswith("Z")
        assert speed[-1][5] == "1.0" and speed[-1][6] == "good"
        assert speed[-1][7] == "store"
        assert speed[-1][header.index("minimum")] == "0.0"
        (oven,) = [row for row in data if row[2] == "Oven_Zone1_Temp"]
        assert oven[1:7] == ["oven-unified", "Oven_Zone1_Temp", "Zone 1 temperature", "°C",
                             "180.5", "uncertain"]

    async def test_the_window_bounds_the_rows(self):
        _, rows = await self.read(url(SPEED, start="now-10min", end="now"))
        assert 9 <= len(rows) - 1 <= 11

    async def test_a_viewer_of_one_site_never_exports_another_site_s(self):
        line_viewer = await sync_to_async(lambda: self.line_viewer)()
        response, rows = await self.read(url(OVEN, start="now-1h"), line_viewer)
        assert response.status_code == 400
        assert rows == []
        assert "no pen" in response.content.decode()
        assert "180.5" not in response.content.decode()
        response, rows = await self.read(url(SPEED, start="now-1h"), line_viewer)
        assert response.status_code == 200
        assert {row[1] for row in rows[1:]} == {"line-classic"}

    async def test_bad_input_is_a_400_with_a_sentence(self):
        for address in (url(), url(SPEED, start="soon"), url(SPEED, width="1"),
                        url(*[SPEED] * 9)):
            response, _ = await self.read(address)
            assert response.status_code == 400, address
            assert response["Content-Type"].startswith("text/plain")
            assert response.content.decode().endswith(".")

    async def test_anonymous_is_sent_to_sign_in(self):
        response = await self.async_client.get(url(SPEED))
        assert response.status_code == 302


class TrendExportFromArchiveTestCase(PlantTestCase):
    """The three sites on the simulator, whose archives hold every second."""

    @pytest.fixture(autouse=True)
    def _simulator(self, sim, _plant, tmp_path, monkeypatch):
        from django.conf import settings

        for name, value in sim.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(settings, "TREND_ARCHIVE_TIMEOUT_SECONDS", SLOW_ARCHIVE_SECONDS)
        monkeypatch.setattr(settings, "WINCC_CONFIG",
                            str(patient_config(write_config(sim, tmp_path / "s.json"))))
        siteconfig.reload_config()
        self.sim = sim

    def archived_seconds(self, tag: str, start: int, end: int) -> list[int]:
        """The seconds of [start, end] the simulator's archive holds (REST v1 history)."""
        with self.sim.client() as client:
            answer = client.get(
                "/api/v1/history", params={"tags": tag, "start": iso(start), "end": iso(end),
                                           "max": "10000"},
                headers={"Authorization": f"Bearer {self.sim.users.ro.token}"},
                timeout=SLOW_ARCHIVE_SECONDS,
            ).json()
        [history] = answer["history"]
        seconds = (int(datetime.fromisoformat(p["t"].replace("Z", "+00:00")).timestamp())
                   for p in history["points"] if not p.get("bounding"))
        return sorted(t for t in seconds if start <= t <= end)

    async def test_every_second_of_two_hours_an_hour_per_call(self):
        await self.async_client.aforce_login(self.viewer)
        end = int(time.time()) // 60 * 60 - 3600
        start = end - 7200
        response = await self.async_client.get(url(
            "utilities-restv1:Tank_Level", start=iso(start), end=iso(end)))
        assert response.status_code == 200
        body = b"".join([chunk async for chunk in response.streaming_content])
        header, *rows = list(csv.reader(io.StringIO(body.decode())))
        times = [row[0] for row in rows]
        assert times == sorted(times) and len(set(times)) == len(times)  # none twice
        # The simulator's archive itself is the oracle: the export starts and ends where the
        # archive's window does (a gap may touch an edge) and holds no second it lacks.
        archived = await sync_to_async(self.archived_seconds)("Tank_Level", start, end)
        exported = [int(datetime.fromisoformat(t).timestamp()) for t in times]
        assert exported[0] == archived[0] and exported[-1] == archived[-1]
        assert set(exported) <= set(archived)
        # Every second but the archive's gaps (left out or sent as bad values).
        assert 3600 <= len(rows) <= 7201
        assert {row[header.index("source")] for row in rows} == {"archive"}
        assert {row[header.index("quality")] for row in rows} <= {"good", "uncertain", "bad"}
