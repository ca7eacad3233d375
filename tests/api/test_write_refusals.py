"""A request carrying an API token to any action that changes something is refused with 403
and an audit row, and nothing reaches WinCC (the simulator's request log stays empty)."""

from __future__ import annotations

from django.test import Client

from dashboard.api.guard import REFUSAL
from dashboard.models import ApiToken, AuditEntry
from tests.dashboard.acksupport import SimulatorSites
from tests.dashboard.base import BaseTestCase

Result = AuditEntry.Result


class TokenWriteRefusedTestCase(SimulatorSites, BaseTestCase):
    def test_every_action_is_refused_before_wincc(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        _, secret = ApiToken.issue(name="MES line 2", owner=self.admin)
        occurrence = {"site": "oven-unified", "name": alarm.name,
                      "instance": str(alarm.instance_id), "state": alarm.state.value}
        posts = [
            ("/alarms/ack/", occurrence, "acknowledge"),
            ("/alarms/ack-all/", {"site": "oven-unified", "count": "1"}, "acknowledge"),
            ("/alarms/shelve/", {**occurrence, "minutes": "15", "reason": "test"}, "shelve"),
            ("/alarms/unshelve/", occurrence, "unshelve"),
            ("/alarms/comment/", {**occurrence, "text": "seen"}, "comment"),
            ("/tags/write/", {"site": "oven-unified", "tag": "Oven_Zone1_Setpoint",
                              "value": "190"}, "write"),
        ]
        # A script sends no CSRF token; a superuser's session beside the token changes nothing.
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.admin)
        for url, data, action in posts:
            response = client.post(url, data, HTTP_AUTHORIZATION=f"Bearer {secret}",
                                   HTTP_USER_AGENT="mes-client/2")
            assert response.status_code == 403, url
            assert response.content.decode() == REFUSAL
            entry = AuditEntry.objects.order_by("-id").first()
            assert (entry.action, entry.result, entry.username, entry.user) == (
                action, Result.DENIED, "API token MES line 2", self.admin), url
            assert (entry.site_id, entry.device) == ("oven-unified", "mes-client/2")
        assert AuditEntry.objects.count() == len(posts)
        assert AuditEntry.objects.get(action="write").value_requested == "190"
        assert self.wincc_writes() == []
        assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED"  # still unacknowledged

    def test_an_unknown_token_is_refused_as_anonymous(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        for _ in range(3):
            response = self.client.post("/alarms/ack/", {
                "site": "oven-unified", "name": alarm.name, "instance": str(alarm.instance_id),
                "state": alarm.state.value}, HTTP_AUTHORIZATION="Bearer wdash_00_nothing")
            assert response.status_code == 403
        entry = AuditEntry.objects.get()  # one summary row for the repeats
        assert (entry.username, entry.result, entry.repeat_count) == (
            "(anonymous)", Result.DENIED, 3)
        assert self.wincc_writes() == []

    def test_get_pages_with_a_token_header_are_untouched(self):
        self.client.force_login(self.viewer)
        response = self.client.get("/", HTTP_AUTHORIZATION="Bearer wdash_00_nothing")
        assert response.status_code == 200
        assert not AuditEntry.objects.exists()
