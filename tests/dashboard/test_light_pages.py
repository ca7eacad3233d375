"""Light pages (P7, docs/operations.md#static-files-and-compression): pages and fragments go out
gzip-compressed and never stored, the live stream is never compressed, every script is
deferred, and a page loads only the scripts it uses. Static files as production serves them
(hashed names, immutable): tests/test_static_served.py."""

from __future__ import annotations

import gzip
import re

from tests.dashboard.livedata import PlantTestCase, healthy_plant
from tests.dashboard.test_headers import cache_control

SCRIPT = re.compile(r"<script\b[^>]*>", re.I)
UPLOT = "vendor/uplot/uPlot.iife.min.js"
TREND = "dashboard/trend.js"


def scripts(html: str) -> list[str]:
    """The page's script tags that run (a JSON data block is data, not a script)."""
    return [tag for tag in SCRIPT.findall(html) if 'type="application/json"' not in tag]


class CompressionTestCase(PlantTestCase):
    def test_a_page_is_compressed_for_a_browser_that_accepts_gzip(self):
        healthy_plant(self.redis)
        self.client.force_login(self.viewer)
        for url in ("/", "/alarms/", "/d/overview/", "/sites/"):
            response = self.client.get(url, headers={"accept-encoding": "gzip, deflate, br"})
            assert response.status_code == 200, url
            assert response["Content-Encoding"] == "gzip", url
            assert "Accept-Encoding" in response["Vary"], url
            html = gzip.decompress(response.content).decode()
            assert "</html>" in html, url
            # Markup compresses well: a small live page (/sites/) about 3x, its stream's
            # opener and nonce (docs/live.md) much less.
            assert len(response.content) * 2.5 < len(html), url
            # Compressed or not, a signed-in person's page is never kept by any cache.
            assert {"private", "no-store"} <= cache_control(response), url

    def test_a_download_goes_out_as_it_is(self):
        # A browser saves an attachment's bytes: a compressed one would be saved compressed.
        self.client.force_login(self.auditor)
        response = self.client.get("/audit.csv", headers={"accept-encoding": "gzip"})
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert "Content-Encoding" not in response

    def test_without_gzip_in_accept_encoding_the_page_is_plain(self):
        response = self.get_as(self.viewer, "/alarms/")
        assert "Content-Encoding" not in response
        assert b"</html>" in response.content

    def test_the_sign_in_page_is_compressed_too(self):
        response = self.client.get("/accounts/login/", headers={"accept-encoding": "gzip"})
        assert response["Content-Encoding"] == "gzip"
        assert b"csrfmiddlewaretoken" in gzip.decompress(response.content)


class ScriptsTestCase(PlantTestCase):
    def test_every_script_is_an_own_file_and_deferred(self):
        """Nothing holds the first paint back: no script that runs before the page is parsed,
        and none in the page's text but the live stream's opener (docs/live.md), which only
        opens the stream and runs under its nonce."""
        healthy_plant(self.redis)
        self.client.force_login(self.viewer)
        urls = ("/", "/alarms/", "/d/overview/", "/sites/", "/kpi/", "/journal/",
                "/trend/?pen=oven-unified:Oven_Zone1_Temp")
        for url in urls:
            html = self.client.get(url).content.decode()
            found = scripts(html)
            assert found, url
            inline = [tag for tag in found if " src=" not in tag]
            assert len(inline) <= 1 and all(t.startswith("<script nonce=") for t in inline), url
            for tag in found:
                assert tag in inline or " defer" in tag, (url, tag)
        self.client.logout()
        for tag in scripts(self.client.get("/accounts/login/").content.decode()):
            assert " src=" in tag and " defer" in tag, tag

    def test_uplot_is_loaded_only_by_the_pages_that_draw_at_once(self):
        healthy_plant(self.redis)
        self.client.force_login(self.viewer)
        overview = self.client.get("/").content.decode()
        alarms = self.client.get("/alarms/").content.decode()
        trend = self.client.get("/trend/?pen=oven-unified:Oven_Zone1_Temp").content.decode()
        # The overview's tiles open a trend overlay: its script, which fetches uPlot then.
        assert f'<script src="/static/{TREND}" defer>' in overview
        assert f'data-uplot="/static/{UPLOT}"' in overview
        assert not any(UPLOT in tag for tag in scripts(overview))
        assert "uPlot.min.css" not in overview.split('name="trend-urls"')[0]
        # The alarm list has no tile: neither.
        assert UPLOT not in alarms and TREND not in alarms
        # The trend page draws at once: uPlot before the trend's script, both deferred.
        tags = scripts(trend)
        names = [t for t in tags if UPLOT in t or TREND in t]
        assert [UPLOT in names[0], TREND in names[1]] == [True, True], names
