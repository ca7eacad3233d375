"""GET /trend/export.csv: every value of the trend's pens in its window, streamed."""

from __future__ import annotations

import csv
import io
import time
from urllib.parse import urlencode

from asgiref.sync import sync_to_async

from tests.dashboard.livedata import PlantTestCase
from tests.dashboard.trenddata import minute_ago, site_viewer, store_minutes

SPEED = "line-classic:Conveyor_Speed"
OVEN = "oven-unified:Oven_Zone1_Temp"


def url(*pens: str, **params) -> str:
    return "/trend/export.csv?" + urlencode([("pen", p) for p in pens] + list(params.items()))


class TrendExportTestCase(PlantTestCase):
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
