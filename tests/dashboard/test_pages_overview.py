from tests.dashboard.livedata import PlantTestCase, healthy_plant, put_health, put_value


class OverviewPageTestCase(PlantTestCase):
    def test_signed_out_goes_to_sign_in(self):
        response = self.client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_outsider_is_refused(self):
        assert self.get_as(self.outsider, "/").status_code == 403

    def test_viewer_sees_every_site_with_health_counts_and_key_values(self):
        healthy_plant(self.redis)
        response = self.get_as(self.viewer, "/")
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-tag="oven-unified:Oven_Zone1_Temp"' in html
        assert 'data-tag="line-classic:Conveyor_Speed"' in html
        # key values: the site's first tiles panel, not every tag it has
        assert 'data-tag="line-classic:Conveyor_Running"' not in html
        assert 'data-site-status="current"' in html
        # one unacknowledged HIGH alarm counted in the page header
        assert 'data-count-band="high" data-total="1" data-unack="1"' in html
        assert 'sse-connect="/live/stream/overview/?seen=' in html
        assert "182.5" in html

    def test_site_never_polled_is_stale_and_says_so(self):
        put_health(self.redis, "oven-unified")
        html = self.get_as(self.viewer, "/").content.decode()
        assert 'data-site="line-classic" data-site-status="never"' in html
        assert "Assembly line</b> is STALE: never polled yet" in html

    def test_a_failing_sites_tiles_give_its_reason_in_the_words_of_the_sites_page(self):
        healthy_plant(self.redis)
        for reason in ("certificate not trusted", "login refused", "no such endpoint"):
            put_health(self.redis, "oven-unified", ok=False, reason=reason,
                       error=f"the whole sentence behind {reason}")
            html = self.get_as(self.viewer, "/").content.decode()
            tile = html.split('data-tag="oven-unified:Oven_Zone1_Temp"')[1].split("</div>\n")
            assert f"STALE · {reason}</div>" in "".join(tile)
            assert html.count(f"STALE · {reason}<") == 2  # both of the oven's tiles
            assert "WinCC not answering" not in html
            sites = self.get_as(self.viewer, "/sites/").content.decode()
            assert f'<small class="short-reason">{reason}</small>' in sites

    def test_a_failing_site_without_a_recorded_reason_reads_not_answering(self):
        healthy_plant(self.redis)
        put_health(self.redis, "oven-unified", ok=False, error="timed out")
        html = self.get_as(self.viewer, "/").content.decode()
        assert "STALE · WinCC not answering<" in html

    def test_a_site_without_alarm_list_shows_its_tiles_and_no_alarm_count(self):
        healthy_plant(self.redis)
        put_health(self.redis, "oven-unified", alarm_list="missing")
        put_value(self.redis, "oven-unified", "Oven_Zone1_Temp", 190.0)
        html = self.get_as(self.viewer, "/").content.decode()
        summary = html.split('class="site-summary site-current" data-site="oven-unified"')[1]
        summary = summary.split("</div>")[0]
        assert "No alarm count for <b>Curing oven</b>: this server publishes no alarm list." in (
            summary)
        assert "data-count-band" not in summary  # no "0 alarms" as if checked
        assert 'data-tag="oven-unified:Oven_Zone1_Temp" data-quality="good" data-stale="false"' in (
            html)
        assert "190.0" in html
        line = html.split('data-site="line-classic"')[1].split("</div>")[0]
        assert "data-count-band" in line and "No alarm count" not in line

    def test_poll_transport_swaps_by_polling_instead(self):
        healthy_plant(self.redis)
        html = self.get_as(self.viewer, "/?transport=poll").content.decode()
        assert 'hx-get="/live/poll/overview/"' in html
        assert 'hx-trigger="every 1s"' in html
        assert "sse-connect" not in html and "sse-swap" not in html

    def test_unknown_transport_is_a_clear_400(self):
        response = self.get_as(self.viewer, "/?transport=carrier-pigeon")
        assert response.status_code == 400
        assert "There is no transport &#x27;carrier-pigeon&#x27;. Choose one of: sse, poll." in (
            response.content.decode())

    def test_poll_answer_swaps_every_fragment_out_of_band_with_pulses(self):
        healthy_plant(self.redis)
        page = self.get_as(self.viewer, "/?transport=poll").content.decode()
        response = self.client.get("/live/poll/overview/")
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store, private"
        body = response.content.decode()
        ids = [part.split('"')[0] for part in body.split('<div id="')[1:]]
        assert ids and all(f'id="{name}"' in page for name in ids)
        assert body.count('hx-swap-oob="innerHTML"') == len(ids)
        assert 'id="pulses" hx-swap-oob="true"' in body and "confirmed" in body

    def test_poll_refused_to_outsiders(self):
        self.client.force_login(self.outsider)
        assert self.client.get("/live/poll/overview/").status_code == 403
