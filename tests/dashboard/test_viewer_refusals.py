"""A viewer sees alarms, the shelved list and comments, and every step that acts is refused:
shelve, unshelve, comment, acknowledge, acknowledge all shown. Each is a 403 with a `denied`
audit row, and the simulator's request log proves nothing reached WinCC."""

from __future__ import annotations

from dashboard.models import AlarmComment, AuditEntry, Shelving
from tests.dashboard.acksupport import SimulatorSites
from tests.dashboard.base import BaseTestCase

Result = AuditEntry.Result


class ViewerRefusalsTestCase(SimulatorSites, BaseTestCase):
    def test_every_step_is_refused_and_nothing_reaches_wincc(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_H")
        other = self.raise_and_poll("oven-unified", "Oven_Zone2_Temp_H")
        occurrence = {"site": other.site, "name": other.name, "instance": other.instance_id}
        self.client.force_login(self.operator)
        shelved = self.client.post("/alarms/shelve/", {
            **occurrence, "minutes": "15", "reason": "burner maintenance"})
        assert shelved.status_code == 303
        self.client.post("/alarms/comment/", {**occurrence, "text": "maintenance until noon"})
        before = self.wincc_writes()
        assert [w["action"] for w in before] == ["shelve"]

        self.client.force_login(self.viewer)
        named = {"site": alarm.site, "name": alarm.name, "instance": alarm.instance_id}
        steps = {
            "shelve": ("/alarms/shelve/", {**named, "minutes": "15", "reason": "why not"}),
            "unshelve": ("/alarms/unshelve/", occurrence),
            "comment": ("/alarms/comment/", {**named, "text": "hello"}),
            "acknowledge": ("/alarms/ack/", {**named, "state": "unacknowledged"}),
            "acknowledge all": ("/alarms/ack-all/", {"site": alarm.site, "count": "1"}),
        }
        for step, (url, data) in steps.items():
            with self.subTest(step=step):
                assert self.client.post(url, data).status_code == 403
        assert self.wincc_writes() == before
        denied = AuditEntry.objects.filter(username="viewer")
        assert list(denied.values_list("result", flat=True)) == [Result.DENIED] * len(steps)
        assert Shelving.objects.get().ended_at is None
        assert AlarmComment.objects.count() == 1

        # What the viewer does see: the shelved row with who and why, and the comment.
        html = self.client.get("/alarms/").content.decode()
        shelved_list = html.partition('class="shelved-list"')[2]
        assert "burner maintenance" in shelved_list and "operator" in shelved_list
        assert "maintenance until noon" in shelved_list
        assert 'data-action="ack-all"' not in self.client.get(
            f"/alarms/?site={alarm.site}").content.decode()
