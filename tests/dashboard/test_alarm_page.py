"""GET /alarms/occurrence/: one occurrence's page, its forms only for who may use them."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone

from dashboard import shelving
from dashboard.models import AuditEntry, JournalEntry
from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import BaseTestCase

Result = AuditEntry.Result
PAGE = "/alarms/occurrence/?site={site}&name={name}&instance={instance}"


class AlarmPageTestCase(SitesConfigured, BaseTestCase):
    def page(self, user, alarm=None, **query):
        self.client.force_login(user)
        fields = {"site": "oven-unified", "name": "Oven_Zone1_Temp_HH", "instance": "1"}
        if alarm is not None:
            fields = {"site": alarm.site, "name": alarm.name, "instance": alarm.instance_id}
        fields.update(query)
        return self.client.get(PAGE.format(**fields))

    def test_operator_gets_every_form(self):
        alarm = self.seed_alarm(priority=12)
        html = self.page(self.operator, alarm).content.decode()
        for action in ("ack-comment", "shelve", "comment"):
            assert f'data-action="{action}"' in html
        assert 'data-alarm="oven-unified:Oven_Zone1_Temp_HH:1"' in html
        assert "WinCC shelves it too" in html

    def test_classic_says_it_is_shelved_here(self):
        alarm = self.seed_alarm(site="line-classic", name="Tank_Level_LL")
        html = self.page(self.operator, alarm).content.decode()
        assert "the dashboard shelves it here, and it stays active in WinCC" in html

    def test_viewer_sees_no_form(self):
        alarm = self.seed_alarm()
        response = self.page(self.viewer, alarm)
        assert response.status_code == 200
        html = response.content.decode()
        for action in ("ack-comment", "shelve", "comment", "unshelve"):
            assert f'data-action="{action}"' not in html

    def test_priority_one_offers_no_shelving(self):
        alarm = self.seed_alarm(priority=16)
        html = self.page(self.operator, alarm).content.decode()
        assert 'data-action="shelve"' not in html
        assert "Priority 1 alarms may never be shelved" in html

    def test_an_occurrence_no_longer_active(self):
        html = self.page(self.operator).content.decode()
        assert "is not active" in html
        assert 'data-action="shelve"' not in html
        assert 'data-action="comment"' in html  # comments stay possible

    def test_bad_requests_are_plain_answers(self):
        assert self.page(self.viewer, instance="x").status_code == 400
        assert self.page(self.viewer, site="nowhere").status_code == 404
        assert self.page(self.outsider).status_code == 403
        self.client.logout()
        assert self.client.get(PAGE.format(site="a", name="b", instance=1)).status_code == 302


def wincc_step(alarm, transition: str, at, acknowledged_by: str = "") -> JournalEntry:
    """A transition as the poller journals it from WinCC's list."""
    return JournalEntry.objects.create(
        key=f"{alarm.site}|{alarm.key}|{transition}|{at.isoformat()}", site_id=alarm.site,
        alarm_name=alarm.name, instance_id=alarm.instance_id, transition=transition, at=at,
        state=alarm.state.value, priority=alarm.priority, acknowledged_by=acknowledged_by)


class AlarmPageLiveTestCase(SitesConfigured, BaseTestCase):
    """The page's state is a live fragment of its own stream; its History section tells
    every step from the journal and the audit log."""

    QUERY = "instance=1&name=Tank_Level_LL&site=line-classic"

    def test_the_state_is_live_over_the_pages_stream(self):
        alarm = self.seed_alarm(site="line-classic", name="Tank_Level_LL")
        self.client.force_login(self.viewer)
        html = self.client.get(f"/alarms/occurrence/?{self.QUERY}").content.decode()
        assert ('sse-connect="/live/stream/occurrence/?site=line-classic&amp;'
                'name=Tank_Level_LL&amp;instance=1&amp;seen=') in html
        assert 'class="frag occurrence" sse-swap="occurrence-' in html
        assert 'data-banner="on"' in html  # the banner too, on the same stream
        # The poll (the same layout) follows the alarm as WinCC's list changes.
        polled = self.client.get(f"/live/poll/occurrence/?{self.QUERY}").content.decode()
        assert 'data-alarm="line-classic:Tank_Level_LL:1"' in polled
        self.redis.delete(f"wdash:site:{alarm.site}:alarms")
        polled = self.client.get(f"/live/poll/occurrence/?{self.QUERY}").content.decode()
        assert 'data-occurrence="gone"' in polled and "is not active" in polled

    def test_a_site_the_viewer_does_not_see_is_refused_on_the_stream_too(self):
        self.client.force_login(self.outsider)
        response = self.client.get(f"/live/poll/occurrence/?{self.QUERY}")
        assert response.status_code == 403

    def test_history_from_raised_to_cleared(self):
        alarm = self.seed_alarm(site="line-classic", name="Tank_Level_LL", priority=12)
        start = timezone.now() - timedelta(minutes=30)
        wincc_step(alarm, "raised", start)
        self.client.force_login(self.operator)
        self.client.post("/alarms/shelve/", {"site": alarm.site, "name": alarm.name,
                                              "instance": "1", "minutes": "15",
                                              "reason": "probe replaced"})
        later = timezone.now() + timedelta(minutes=16)
        shelving.expire_due(later)
        self.client.post("/alarms/comment/", {"site": alarm.site, "name": alarm.name,
                                               "instance": "1", "text": "level is back"})
        # Acknowledged through the dashboard (WinCC names its API user), then cleared.
        AuditEntry.objects.create(username="operator", site_id=alarm.site,
                                  alarm_name=alarm.name, instance_id=1, result=Result.OK,
                                  completed_at=later)
        wincc_step(alarm, "acknowledged", later + timedelta(seconds=2),
                   acknowledged_by="dashboard-operator")
        wincc_step(alarm, "cleared", later + timedelta(minutes=1))
        self.client.force_login(self.viewer)
        response = self.client.get(f"/alarms/occurrence/history/?{self.QUERY}")
        assert response.status_code == 200
        html = response.content.decode()
        steps = [(m.group(1), m.group(2)) for m in re.finditer(
            r'<li data-step="(\w+)">.*?</time> (.*?)</li>', html)]
        assert [kind for kind, _ in steps] == [
            "raised", "shelved", "commented", "unshelved", "acknowledged", "cleared"]
        text = dict(steps)
        assert "by operator: “probe replaced”" in text["shelved"]
        assert "its shelving time was over" in text["unshelved"]
        assert "operator: “level is back”" in text["commented"]
        assert "by operator via the dashboard" in text["acknowledged"]
        # The page shows the same section, and fetches it again as the occurrence changes.
        page = self.client.get(f"/alarms/occurrence/?{self.QUERY}").content.decode()
        assert 'id="alarm-history"' in page and 'hx-trigger="sse:occurrence-' in page
        assert "by operator via the dashboard" in page

    def test_an_acknowledgement_in_wincc_says_so(self):
        alarm = self.seed_alarm(site="line-classic", name="Tank_Level_LL")
        # Someone acknowledged here earlier, but WinCC names its own user this time.
        AuditEntry.objects.create(username="operator", site_id=alarm.site,
                                  alarm_name=alarm.name, instance_id=1, result=Result.OK)
        wincc_step(alarm, "acknowledged", timezone.now(), acknowledged_by="hmi-user")
        self.client.force_login(self.viewer)
        html = self.client.get(f"/alarms/occurrence/history/?{self.QUERY}").content.decode()
        assert "<b>Acknowledged</b> by hmi-user in WinCC" in html

    def test_history_refuses_bad_input_plainly(self):
        self.client.force_login(self.viewer)
        response = self.client.get("/alarms/occurrence/history/?site=line-classic")
        assert response.status_code == 400
        assert response.content.startswith(b"Malformed request")
        self.client.force_login(self.outsider)
        assert self.client.get(f"/alarms/occurrence/history/?{self.QUERY}").status_code == 403
