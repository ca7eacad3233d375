"""GET /alarms/occurrence/: one occurrence's page, its forms only for who may use them."""

from __future__ import annotations

from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import BaseTestCase

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
