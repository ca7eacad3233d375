from tests.dashboard.livedata import PlantTestCase, healthy_plant, put_health


class SitesPageTestCase(PlantTestCase):
    def test_health_of_every_visible_site_with_the_last_error_in_plain_words(self):
        healthy_plant(self.redis)
        put_health(self.redis, "line-classic", ok=False,
                   error="WinCC refused the API user's password")
        html = self.get_as(self.viewer, "/sites/").content.decode()
        assert 'data-site="oven-unified" data-site-status="current"' in html
        assert 'data-site="line-classic" data-site-status="failing"' in html
        assert "WinCC refused the API user&#x27;s password" in html
        assert 'data-latency-of="oven-unified"' in html

    def test_outsider_is_refused(self):
        assert self.get_as(self.outsider, "/sites/").status_code == 403
