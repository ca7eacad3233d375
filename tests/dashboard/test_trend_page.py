"""The trend page (/trend/): the pens offered, the chart's parameters, bad requests."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from tests.dashboard.base import site_viewer
from tests.dashboard.livedata import SITES, PlantTestCase, change_site, healthy_plant

ZONE1 = "oven-unified:Oven_Zone1_Temp"
SPEED = "line-classic:Conveyor_Speed"


def chart_of(html: str) -> dict:
    """The parameters the page hands its chart (data-trend on the chart's element)."""
    found = re.search(r'class="trend-chart" data-trend="([^"]*)"', html)
    assert found, "the page has no chart"
    return json.loads(unescape(found.group(1)))


def offered(html: str) -> list[str]:
    return re.findall(r'name="pen" value="([^"]+)"', html)


class TrendPageTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        healthy_plant(self.redis)

    def test_anonymous_is_sent_to_sign_in_and_outsiders_are_refused(self):
        response = self.client.get("/trend/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert self.get_as(self.outsider, "/trend/").status_code == 403

    def test_without_pens_the_picker_offers_every_visible_tag_and_no_chart(self):
        response = self.get_as(self.viewer, "/trend/")
        html = response.content.decode()
        assert response.status_code == 200
        assert offered(html) == [ZONE1, "oven-unified:Oven_Zone2_Temp", SPEED,
                                 "line-classic:Conveyor_Running"]
        assert "trend-chart" not in html
        assert "Choose the pens to draw" in html
        assert '<a href="/trend/" aria-current="page">Trend</a>' in html

    def test_viewer_of_one_site_is_offered_only_its_pens(self):
        html = self.get_as(site_viewer("line-classic", "line_viewer"), "/trend/").content.decode()
        assert offered(html) == [SPEED, "line-classic:Conveyor_Running"]
        assert "Curing oven" not in html and "Oven_Zone1_Temp" not in html

    def test_a_pen_of_a_site_not_seen_is_refused_as_if_it_did_not_exist(self):
        user = site_viewer("line-classic", "line_viewer")
        hidden = self.get_as(user, "/trend/", data={"pen": ZONE1})
        unknown = self.get_as(user, "/trend/", data={"pen": "oven-unified:No_Such_Tag"})
        assert hidden.status_code == unknown.status_code == 400
        hidden_html = hidden.content.decode()
        sentence = "There is no pen &#x27;{}&#x27; that you may see."
        assert sentence.format(ZONE1) in hidden_html
        assert sentence.format("oven-unified:No_Such_Tag") in unknown.content.decode()
        # Nothing of the oven leaks: no value, no stream of its tiles, no chart.
        assert "182.5" not in hidden_html and "trend-chart" not in hidden_html
        assert 'data-tag="oven-unified' not in hidden_html

    def test_chosen_pens_get_a_chart_their_tiles_and_a_stream_carrying_them(self):
        response = self.get_as(self.viewer, "/trend/",
                               data={"pen": [ZONE1, SPEED], "start": "now-8h", "end": "now"})
        html = response.content.decode()
        assert response.status_code == 200
        chart = chart_of(html)
        assert chart["pens"] == [ZONE1, SPEED]
        assert (chart["start"], chart["end"], chart["compare"]) == ("now-8h", "now", "")
        assert chart["pageUrl"] == "/trend/"
        # The tiles' frames extend the live edge: the stream watches exactly these pens.
        assert f'data-tag="{ZONE1}"' in html and f'data-tag="{SPEED}"' in html
        assert 'data-value="182.5"' in html
        stream = unescape(re.search(r'sse-connect="([^"]+)"', html).group(1))
        assert urlsplit(stream).path == "/live/stream/trend/"
        query = parse_qs(urlsplit(stream).query)
        assert query.pop("seen")  # what the page shows (test_stream.py)
        assert query == {"pen": [ZONE1, SPEED]}
        assert f'<input type="checkbox" name="pen" value="{ZONE1}" checked>' in html

    def test_stream_of_the_trend_page_serves_its_pens_tiles(self):
        self.client.force_login(self.viewer)
        response = self.client.get("/live/poll/trend/", data={"pen": [SPEED]})
        html = response.content.decode()
        assert response.status_code == 200
        assert f'data-tag="{SPEED}"' in html and 'data-tag="oven-unified' not in html

    def test_stream_carries_nothing_of_a_pen_the_viewer_may_not_see(self):
        self.client.force_login(site_viewer("line-classic", "line_viewer"))
        response = self.client.get("/live/poll/trend/", data={"pen": [ZONE1, SPEED]})
        html = response.content.decode()
        assert response.status_code == 200
        assert f'data-tag="{SPEED}"' in html
        assert "oven-unified" not in html and "182.5" not in html

    def test_defaults_are_the_last_hour_and_presets_keep_the_pens(self):
        html = self.get_as(self.viewer, "/trend/", data={"pen": ZONE1}).content.decode()
        chart = chart_of(html)
        assert (chart["start"], chart["end"]) == ("now-1h", "now")
        assert (
            '<a href="/trend/?pen=oven-unified%3AOven_Zone1_Temp&amp;start=now-8h&amp;end=now" '
            'data-span="now-8h">8 h (shift)</a>' in html
        )

    def test_absolute_range_and_compare_are_handed_to_the_chart(self):
        html = self.get_as(self.viewer, "/trend/", data={
            "pen": ZONE1, "start": "2026-12-01T22:00:00Z", "end": "2026-12-02T06:00:00+01:00",
            "compare": "1d"}).content.decode()
        chart = chart_of(html)
        assert chart["start"] == "2026-12-01T22:00:00Z"
        # The chart gets UTC with its Z: a browser reads a time without a zone as local.
        assert chart["end"] == "2026-12-02T05:00:00Z"
        assert chart["compare"] == "1d"

    def test_bad_parameters_are_a_sentence_and_400_never_a_500(self):
        cases = {
            (("start", "yesterday"),): "From (UTC): “yesterday” is not a time",
            (("start", "now-40d"),): "A trend shows at most 31 days; choose a shorter range.",
            (("start", "now"), ("end", "now-1h")): "The range&#x27;s start must be before its end.",
            (("end", "now-5x"),): "To (UTC): “now-5x” is not a time",
            (("compare", "1y"),): "Compare: compare must be 1d or 7d.",
            (("start", "x" * 65),): "From (UTC): A time is at most 64 characters long.",
            (("pen", "no-colon"),): "There is no pen &#x27;no-colon&#x27; that you may see.",
            (("pen", ":"),): "There is no pen &#x27;:&#x27; that you may see.",
        }
        for params, sentence in cases.items():
            query = {"pen": ZONE1}
            query.update(dict(params))
            response = self.get_as(self.viewer, "/trend/", data=query)
            assert response.status_code == 400, params
            html = response.content.decode()
            assert sentence in html, (params, html[-2000:])
            assert 'role="alert"' in html and "trend-chart" not in html

    def test_no_value_of_any_parameter_answers_500(self):
        nasty = ["²", "-1", "1e999", "9" * 5000, "now-99999999d", "now-0s", "%", "%00",
                 "'\"<script>", "2026-02-30T00:00Z", " ", "", ":", "::", "x" * 10_000]
        for name in ("pen", "start", "end", "compare", "width", "transport"):
            for value in nasty:
                query = {"pen": ZONE1, name: value}
                response = self.get_as(self.viewer, "/trend/", data=query)
                assert response.status_code in (200, 400), (name, value[:20])

    def test_more_than_eight_pens_are_refused_in_words(self):
        extra = [{"name": f"T{i}", "label": f"T{i}"} for i in range(9)]
        change_site("oven-unified", tags=[*SITES[0]["tags"], *extra])
        pens = [f"oven-unified:T{i}" for i in range(9)]
        response = self.get_as(self.viewer, "/trend/", data={"pen": pens})
        assert response.status_code == 400
        assert "A trend shows at most 8 pens; 9 were asked for." in response.content.decode()
        response = self.get_as(self.viewer, "/trend/", data={"pen": pens[:8]})
        assert response.status_code == 200 and len(chart_of(response.content.decode())["pens"]) == 8

    def test_a_pen_named_twice_is_drawn_once(self):
        html = self.get_as(self.viewer, "/trend/", data={"pen": [SPEED, SPEED]}).content.decode()
        assert chart_of(html)["pens"] == [SPEED]

    def test_tag_names_with_colons_split_on_the_first(self):
        response = self.get_as(self.viewer, "/trend/", data={"pen": "line-classic:Conveyor:Speed"})
        assert response.status_code == 400
        assert "There is no pen &#x27;line-classic:Conveyor:Speed&#x27; that you may see." in (
            response.content.decode())

    def test_tiles_link_their_value_and_sparkline_to_their_trend(self):
        html = self.get_as(self.viewer, "/d/overview/").content.decode()
        tile = html.split(f'data-tag="{ZONE1}"')[1].split('class="tile ')[0]
        link = "/trend/?pen=oven-unified%3AOven_Zone1_Temp&amp;start=now-1h&amp;end=now"
        assert f'<a class="tile-trend" href="{link}"' in tile
        assert f'<a class="tile-spark" href="{link}"' in tile
        assert 'data-value="182.5"' in html.split(f'data-tag="{ZONE1}"')[1][:200]
        # The chart code and where it reads history are on every page with tiles but the
        # wall's; uPlot only on the trend page (tests/dashboard/test_light_pages.py).
        assert 'src="/static/dashboard/trend.js"' in html
        assert '<meta name="trend-urls" data-page="/trend/"' in html
