from tests.dashboard.livedata import PlantTestCase, change_site, healthy_plant, put_health


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

    def test_a_failing_site_shows_its_short_reason_beside_the_whole_error(self):
        healthy_plant(self.redis)
        put_health(self.redis, "oven-unified", ok=False, reason="certificate not trusted",
                   error="certificate of https://127.0.0.1:1 does not match the pinned one")
        html = self.get_as(self.viewer, "/sites/").content.decode()
        assert '<small class="short-reason">certificate not trusted</small>' in html
        assert "does not match the pinned one" in html

    def test_a_site_without_alarm_list_says_so_instead_of_a_count(self):
        healthy_plant(self.redis)
        put_health(self.redis, "oven-unified", alarm_list="missing", alarm_list_checked=None)
        html = self.get_as(self.viewer, "/sites/").content.decode()
        row = html.split('data-site="oven-unified"')[1].split("</tr>")[0]
        assert "none: this server publishes no alarm list" in row
        assert 'data-active="' not in row
        assert 'data-site="oven-unified" data-site-status="current"' in html  # not failed
        other = html.split('data-site="line-classic"')[1].split("</tr>")[0]
        # Tags from the poll; active alarms by the one count rule (none stored here).
        assert '2 / <span data-active="0">0</span>' in other

    def test_alarms_switched_off_in_the_configuration_say_so(self):
        change_site("oven-unified", alarms=False)
        healthy_plant(self.redis)
        html = self.get_as(self.viewer, "/sites/").content.decode()
        row = html.split('data-site="oven-unified"')[1].split("</tr>")[0]
        assert "alarms are switched off in this site&#x27;s configuration" in row

    def test_a_site_read_in_its_local_time_names_its_zone(self):
        change_site("line-classic", timezone="Europe/Berlin")
        healthy_plant(self.redis)
        html = self.get_as(self.viewer, "/sites/").content.decode()
        row = html.split('data-site="line-classic"')[1].split("</tr>")[0]
        assert '<span class="site-zone"' in row and ">Europe/Berlin</span>" in row
        assert "site-zone" not in html.split('data-site="oven-unified"')[1].split("</tr>")[0]

    def test_outsider_is_refused(self):
        assert self.get_as(self.outsider, "/sites/").status_code == 403
