import re

from django.utils import timezone

from dashboard.models import WallScreen
from tests.dashboard.livedata import PlantTestCase, alarm, healthy_plant, put_alarm
from wincc_bridge.models import AlarmState


class WallScreenTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        healthy_plant(self.redis)
        self.screen, self.token = WallScreen.issue(name="Control room", dashboard_id="overview")

    def test_token_signs_the_screen_in_once_and_leaves_the_address(self):
        response = self.client.get(f"/wall/overview/?token={self.token}&rotate=30")
        assert response.status_code == 302
        assert response["Location"] == "/wall/overview/?rotate=30"
        page = self.client.get(response["Location"])
        assert page.status_code == 200
        html = page.content.decode()
        assert '<html lang="en" data-theme="dark">' in html and 'data-page-seconds="30"' in html
        # A screen with no rotation of its own stays on its dashboard; ?rotate= keeps going.
        assert 'data-next="/wall/overview/?rotate=30"' in html
        assert 'data-settings="/wall/overview/settings/?rotate=30"' in html
        assert 'data-tag="oven-unified:Oven_Zone1_Temp"' in html
        # Its only controls are its own sound's (annunciator): nothing acts on the plant.
        assert 'data-sound="enable"' in html
        html = re.sub(r'<div class="sound-controls".*?</div>', "", html, flags=re.S)
        for control in ("<button", "<form", "<nav", 'data-action="ack"', "Sign out"):
            assert control not in html
        assert "_auth_user_id" not in self.client.session  # a screen, never a user login
        self.screen.refresh_from_db()
        assert self.screen.last_seen_at is not None

    def test_stream_accepts_the_screen(self):
        self.client.get(f"/wall/overview/?token={self.token}")
        assert self.client.get("/live/poll/wall/overview/").status_code == 200

    def test_revoked_screen_is_refused_on_the_next_load_and_stream(self):
        self.client.get(f"/wall/overview/?token={self.token}")
        WallScreen.objects.filter(pk=self.screen.pk).update(revoked_at=timezone.now())
        assert self.client.get("/live/poll/wall/overview/").status_code == 403
        response = self.client.get("/wall/overview/")
        assert response.status_code == 403
        assert "not signed in" in response.content.decode()

    def test_wrong_token_is_refused(self):
        response = self.client.get("/wall/overview/?token=guess")
        assert response.status_code == 403

    def test_rotation_must_be_sensible(self):
        self.client.get(f"/wall/overview/?token={self.token}")
        for rotate in ("1", "²", "9" * 5000, "86401", "-5", "5.5"):
            response = self.client.get(f"/wall/overview/?rotate={rotate}")
            assert response.status_code == 400, rotate
            assert "rotate must be a whole number from 5 to 86400" in response.content.decode()
        assert self.client.get("/wall/overview/?rotate=5").status_code == 200

    def test_wall_screen_never_gets_acknowledge_buttons_even_for_an_operator(self):
        html = self.get_as(self.operator, "/wall/overview/").content.decode()
        assert 'data-alarm="oven-unified:Oven_Zone1_Temp_HH:1"' in html
        assert 'data-action="ack"' not in html

    def test_a_theme_in_the_screens_address_overrides_its_own_and_stays_in_the_rotation(self):
        self.client.get(f"/wall/overview/?token={self.token}")
        html = self.client.get("/wall/overview/?theme=light&rotate=30").content.decode()
        assert '<html lang="en" data-theme="light">' in html
        assert 'data-next="/wall/overview/?rotate=30&amp;theme=light"' in html
        settings = self.client.get("/wall/overview/settings/?theme=light").json()
        assert settings["theme"] == "light"
        auto = self.client.get("/wall/overview/?theme=auto").content.decode()
        assert '<html lang="en">' in auto  # the device's own setting decides
        refused = self.client.get("/wall/overview/?theme=neon")
        assert refused.status_code == 400
        assert "There is no theme &#x27;neon&#x27;" in refused.content.decode()

    def test_the_screens_own_settings_shape_its_page(self):
        WallScreen.objects.filter(pk=self.screen.pk).update(
            rotation="overview, line", page_seconds=12, theme="light", pause_on_alarm=False)
        self.client.get(f"/wall/overview/?token={self.token}")
        html = self.client.get("/wall/overview/").content.decode()
        assert '<html lang="en" data-theme="light">' in html
        assert 'data-page-seconds="12"' in html
        assert 'data-next="/wall/line/"' in html
        assert 'data-pause-on-alarm="false"' in html
        assert 'data-sound="false"' in html and 'data-sound-priority="5"' in html
        assert 'data-sites="oven-unified line-classic"' in html
        line = self.client.get("/wall/line/").content.decode()
        assert 'data-next="/wall/overview/"' in line and 'data-sites="line-classic"' in line

    def test_settings_are_read_again_at_each_turn(self):
        self.client.get(f"/wall/overview/?token={self.token}")
        first = self.client.get("/wall/overview/settings/").json()
        overview = {"id": "overview", "url": "/wall/overview/",
                    "sites": ["oven-unified", "line-classic"]}
        assert first == {"next": "/wall/overview/", "page_seconds": 30, "theme": "dark",
                         "language": "en", "pause_on_alarm": True, "sound": False,
                         "sound_priority": 5, "dashboards": [overview]}
        WallScreen.objects.filter(pk=self.screen.pk).update(
            rotation="overview,line", page_seconds=7, sound=True, sound_priority=2)
        changed = self.client.get("/wall/overview/settings/?transport=poll").json()
        assert changed["next"] == "/wall/line/?transport=poll"
        assert changed["page_seconds"] == 7 and changed["sound"] is True
        assert changed["sound_priority"] == 2
        # where a held priority-1 alarm takes the screen: its dashboards and their sites
        assert [(d["url"], d["sites"]) for d in changed["dashboards"]] == [
            ("/wall/overview/?transport=poll", ["oven-unified", "line-classic"]),
            ("/wall/line/?transport=poll", ["line-classic"])]
        # a dashboard the rotation does not name turns to the rotation's first
        assert self.client.get("/wall/nothing/settings/").json()["next"] == "/wall/overview/"
        # one removed from the configuration since is skipped
        WallScreen.objects.filter(pk=self.screen.pk).update(rotation="overview, gone, line")
        assert self.client.get("/wall/overview/settings/").json()["next"] == "/wall/line/"
        assert self.client.get("/wall/overview/settings/?rotate=x").status_code == 400

    def test_settings_refuse_a_revoked_or_unknown_screen(self):
        assert self.client.get("/wall/overview/settings/").status_code == 403
        self.client.get(f"/wall/overview/?token={self.token}")
        WallScreen.objects.filter(pk=self.screen.pk).update(revoked_at=timezone.now())
        response = self.client.get("/wall/overview/settings/")
        assert response.status_code == 403
        assert "not signed in" in response.json()["error"]

    def test_preview_by_a_viewer_rotates_only_when_asked(self):
        html = self.get_as(self.viewer, "/wall/overview/").content.decode()
        assert 'data-next=""' in html and 'data-settings=""' in html
        html = self.get_as(self.viewer, "/wall/overview/?rotate=10").content.decode()
        assert 'data-next="/wall/line/?rotate=10"' in html
        assert self.get_as(self.viewer, "/wall/nothing/?rotate=10").status_code == 404

    def test_strip_names_the_most_pressing_alarm_and_the_sites_that_hold_rotation(self):
        put_alarm(self.redis, alarm(name="Old_HH", instance=2, priority=16,
                                    state=AlarmState.ACKNOWLEDGED))
        put_alarm(self.redis, alarm(site="line-classic", name="Conveyor_Fault", priority=16))
        html = self.get_as(self.viewer, "/wall/overview/").content.decode()
        strip = html[html.index('class="wall-alarm'):]
        strip = strip[:strip.index("</div>")]
        # unacknowledged before acknowledged, then the highest priority
        assert 'data-wall-alarm="line-classic:Conveyor_Fault:1"' in strip
        assert "unack" in strip.split('"')[1] and "band-highest" in strip
        assert 'data-holding="line-classic"' in strip
        assert "Assembly line" in strip and "data-since=" in strip
