from tests.dashboard.livedata import PlantTestCase, healthy_plant, put_health, put_value
from wincc_bridge.models import Quality


class DashboardPageTestCase(PlantTestCase):
    def test_tiles_with_value_unit_quality_age_band_and_trend(self):
        healthy_plant(self.redis)
        html = self.get_as(self.viewer, "/d/overview/").content.decode()
        assert 'sse-connect="/live/stream/dashboard/overview/?seen=' in html
        tile = html.split('data-tag="oven-unified:Oven_Zone1_Temp"')[1].split('class="tile ')[0]
        assert 'data-quality="good" data-stale="false"' in tile
        assert "182.5" in tile and "°C" in tile
        assert 'data-since="' in tile  # the age ticks in the browser from this time
        assert 'class="band"' in tile and 'class="marker"' in tile
        assert "<path" not in tile or 'class="spark"' in tile
        assert 'class="trend-svg' in html

    def test_limit_breach_is_shown_by_word_not_colour_alone(self):
        healthy_plant(self.redis)
        put_value(self.redis, "oven-unified", "Oven_Zone1_Temp", 225.0)
        html = self.get_as(self.viewer, "/d/overview/").content.decode()
        assert 'data-limit="hh"' in html and "HIHI" in html

    def test_failing_site_greys_its_tiles_with_the_reason(self):
        healthy_plant(self.redis)
        put_health(self.redis, "oven-unified", ok=False, error="cannot connect: refused")
        html = self.get_as(self.viewer, "/d/overview/").content.decode()
        tile = html.split('data-tag="oven-unified:Oven_Zone1_Temp"')[0].rsplit("<div", 1)[1]
        assert 'data-stale="true"' in html.split('data-tag="oven-unified:Oven_Zone1_Temp"')[1][:80]
        assert "tile" in tile and "stale" in tile
        assert "Curing oven</b> is STALE: 3 failed polls: cannot connect: refused" in html
        line = html.split('data-tag="line-classic:Conveyor_Speed"')[1][:80]
        assert 'data-stale="false"' in line

    def test_old_last_success_is_stale_after_three_intervals(self):
        healthy_plant(self.redis)
        put_health(self.redis, "line-classic", age=3.5)
        html = self.get_as(self.viewer, "/d/overview/").content.decode()
        assert 'data-stale="true"' in html.split('data-tag="line-classic:Conveyor_Speed"')[1][:80]
        assert "no successful poll for more than 3 s" in html

    def test_bad_quality_value_is_not_drawn_as_good(self):
        healthy_plant(self.redis)
        put_value(self.redis, "oven-unified", "Oven_Zone2_Temp", None, quality=Quality.BAD,
                  error="tag not found")
        html = self.get_as(self.viewer, "/d/overview/").content.decode()
        tile = html.split('data-tag="oven-unified:Oven_Zone2_Temp"')[1][:900]
        assert 'data-quality="bad"' in tile and "***" in tile and "tag not found" in tile

    def test_unknown_dashboard_is_404(self):
        assert self.get_as(self.viewer, "/d/nowhere/").status_code == 404

    def test_redis_unreachable_shows_everything_stale_not_an_error(self):
        with self.settings(REDIS_URL="redis://127.0.0.1:1/0"):
            response = self.get_as(self.viewer, "/d/overview/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "the dashboard cannot read its data store (Redis)" in html
        assert 'data-stale="false"' not in html
