"""The annunciator on every page (the banner fragment and the sound controls) and
POST /alarms/silence/ (recorded, nothing sent to WinCC)."""

from __future__ import annotations

from datetime import timedelta

from dashboard.models import AuditEntry, WallScreen
from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import BaseTestCase
from wincc_bridge.models import AlarmState, utcnow

Result = AuditEntry.Result


class BannerTestCase(SitesConfigured, BaseTestCase):
    def banner(self, user, path="/"):
        self.client.force_login(user)
        html = self.client.get(path).content.decode()
        start = html.index('data-annunciator')
        return html[start:html.index("</div>", start)]

    def test_the_newest_of_the_highest_priority_and_the_count_of_others(self):
        now = utcnow()
        self.seed_alarm(name="Old_Top", priority=16, raise_time=now - timedelta(minutes=5))
        self.seed_alarm(name="New_Top", priority=16, raise_time=now - timedelta(minutes=1),
                        event_text="Burner flame lost")
        self.seed_alarm(name="Newest_Low", priority=3, raise_time=now)
        self.seed_alarm(name="Seen", priority=16, state=AlarmState.ACKNOWLEDGED)
        banner = self.banner(self.viewer)
        assert 'data-banner="on" data-rank="1" data-unack="3"' in banner
        assert 'data-top="oven-unified:New_Top:1"' in banner
        assert "Burner flame lost" in banner and "+2 more unacknowledged" in banner
        assert 'href="/alarms/"' in banner

    def test_on_every_page(self):
        alarm = self.seed_alarm(priority=12)
        occurrence = f"/alarms/occurrence/?site={alarm.site}&name={alarm.name}&instance=1"
        for path in ("/", "/alarms/", "/sites/", "/alarms/?site=line-classic", occurrence,
                     "/no/such/page/"):
            with self.subTest(path=path):
                assert 'data-rank="2"' in self.banner(self.viewer, path)
        # The audit log and the integrations, for a person who may see them.
        for path in ("/audit/", "/integrations/", "/audit/?result=denied"):
            with self.subTest(path=path):
                assert 'data-rank="2"' in self.banner(self.admin, path)

    def test_a_page_without_fragments_keeps_its_banner_live(self):
        self.seed_alarm(priority=12)
        self.client.force_login(self.admin)
        html = self.client.get("/audit/").content.decode()
        assert 'sse-connect="/live/stream/banner/?seen=' in html
        # Its poll (the fallback transport) answers the banner alone.
        self.seed_alarm(name="Burner_Flame", priority=16)
        polled = self.client.get("/live/poll/banner/").content.decode()
        assert 'data-rank="1"' in polled and "data-count-band" not in polled

    def test_no_banner_for_a_person_who_sees_no_site(self):
        self.seed_alarm(priority=16)
        self.client.force_login(self.outsider)
        html = self.client.get("/no/such/page/").content.decode()
        assert "data-annunciator" not in html and "sse-connect" not in html

    def test_quiet_without_unacknowledged_alarms(self):
        self.seed_alarm(state=AlarmState.ACKNOWLEDGED)
        assert 'data-banner="off"' in self.banner(self.viewer)

    def test_a_shelved_alarm_does_not_sound(self):
        alarm = self.seed_alarm(site="line-classic", name="Tank_Level_LL", priority=12)
        self.client.force_login(self.operator)
        self.client.post("/alarms/shelve/", {
            "site": alarm.site, "name": alarm.name, "instance": "1", "minutes": "15",
            "reason": "probe replaced"})
        assert 'data-banner="off"' in self.banner(self.operator)

    def test_only_sites_the_viewer_may_see(self):
        self.seed_alarm(priority=16)
        self.client.force_login(self.outsider)
        assert self.client.get("/").status_code == 403


class SilenceTestCase(SitesConfigured, BaseTestCase):
    def test_silence_is_recorded_and_sends_nothing(self):
        self.client.force_login(self.viewer)
        response = self.client.post("/alarms/silence/", {"minutes": "5"})
        assert response.status_code == 204
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.result, entry.username, entry.alarm_name) == (
            "silence", Result.OK, "viewer", "(alarm sound)")
        assert "for 5 min; nothing was sent to WinCC" in entry.message

    def test_a_wall_screen_may_silence_itself(self):
        _, token = WallScreen.issue(name="Control room", dashboard_id="overview")
        self.client.get(f"/wall/overview/?token={token}")
        assert self.client.post("/alarms/silence/", {"minutes": "2"}).status_code == 204
        assert "wall screen Control room" in AuditEntry.objects.get().message

    def test_anonymous_and_bad_input_are_refused(self):
        assert self.client.post("/alarms/silence/", {"minutes": "5"}).status_code == 403
        self.client.force_login(self.viewer)
        for minutes in ("0", "60", "x", ""):
            assert self.client.post("/alarms/silence/", {"minutes": minutes}).status_code == 400
        assert self.client.get("/alarms/silence/").status_code == 405
        assert list(AuditEntry.objects.order_by("id").values_list("result", flat=True)) == [
            Result.DENIED, *[Result.ERROR] * 4]
