"""POST /alarms/ack-all/: acknowledge the rows a site's list shows, after one confirmation of
how many; one audit row per alarm, one WinCC call where the dialect takes many (Unified),
an outcome per row; refusals send nothing."""

from __future__ import annotations

from unittest import mock

from dashboard.models import AuditEntry
from dashboard.siteconfig import get_config
from tests.dashboard.acksupport import SimulatorSites, SitesConfigured
from tests.dashboard.base import BaseTestCase
from wincc_bridge.client import open_client
from wincc_ingest import store

Result = AuditEntry.Result


class AckAllSupport:
    def ack_all_post(self, site="oven-unified", count="2", **fields):
        data = {"site": site, "count": count, "priority": "", "state": ""}
        data.update(fields)
        return self.client.post("/alarms/ack-all/", data)


class AcknowledgeAllRefusedTestCase(AckAllSupport, SitesConfigured, BaseTestCase):
    def setUp(self):
        super().setUp()
        self.first = self.seed_alarm(name="Oven_Zone1_Temp_HH")
        self.second = self.seed_alarm(name="Oven_Zone2_Temp_HH")

    def assert_nothing_sent(self):
        for alarm in (self.first, self.second):
            assert self.redis.get(store.alarm_ack_lock(alarm.site, alarm.name, 1)) is None

    def test_viewer_gets_403_and_one_denied_row(self):
        self.client.force_login(self.viewer)
        assert self.ack_all_post().status_code == 403
        entry = AuditEntry.objects.get()
        assert (entry.result, entry.alarm_name, entry.site_id) == (
            Result.DENIED, "(all shown)", "oven-unified")
        self.assert_nothing_sent()

    def test_operator_of_another_site_gets_403(self):
        self.client.force_login(self.line_operator)
        assert self.ack_all_post().status_code == 403
        self.assert_nothing_sent()

    def test_a_changed_list_sends_nothing(self):
        self.client.force_login(self.operator)
        response = self.ack_all_post(count="3")
        assert response.status_code == 409
        assert response.content.decode().startswith(
            "The list changed: 2 alarms await acknowledgement now, not 3.")
        assert AuditEntry.objects.get().result == Result.STALE
        self.assert_nothing_sent()

    def test_malformed_requests_are_400(self):
        self.client.force_login(self.operator)
        for fields in ({"count": "0"}, {"count": "many"}, {"count": "101"},
                       {"priority": "urgent"}, {"state": "panicking"}):
            with self.subTest(fields=fields):
                response = self.ack_all_post(**fields)
                assert response.status_code == 400
                assert response.content.startswith(b"Malformed request: the field")
        self.assert_nothing_sent()

    def test_unknown_site_is_404(self):
        self.client.force_login(self.admin)
        assert self.ack_all_post(site="nowhere").status_code == 404

    def test_the_list_offers_it_with_the_count_for_one_site(self):
        self.client.force_login(self.operator)
        html = self.client.get("/alarms/?site=oven-unified").content.decode()
        assert 'data-action="ack-all" data-count="2"' in html
        assert 'hx-confirm="Acknowledge 2 alarms on Test oven-unified?"' in html
        # Not for all sites at once, and not for a viewer.
        assert 'data-action="ack-all"' not in self.client.get("/alarms/").content.decode()
        self.client.force_login(self.viewer)
        html = self.client.get("/alarms/?site=oven-unified").content.decode()
        assert 'data-action="ack-all"' not in html

    def test_the_filter_decides_what_is_counted(self):
        self.seed_alarm(name="Oven_Zone1_Temp_H", priority=7)
        self.client.force_login(self.operator)
        html = self.client.get("/alarms/?site=oven-unified&priority=medium").content.decode()
        assert 'data-count="1"' in html
        assert self.ack_all_post(count="2", priority="medium").status_code == 409


class AcknowledgeAllOnSimulatorTestCase(AckAllSupport, SimulatorSites, BaseTestCase):
    def test_unified_one_call_for_all_and_one_row_each(self):
        first = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        second = self.raise_and_poll("oven-unified", "Oven_Zone2_Temp_H")
        self.poll("oven-unified")
        self.client.force_login(self.operator)
        response = self.ack_all_post(count="2")
        assert response.status_code == 200, response.content
        html = response.content.decode()
        assert 'data-acknowledged="2" data-of="2"' in html
        writes = self.wincc_writes()
        assert len(writes) == 1
        assert writes[0]["action"] == "acknowledge" and len(writes[0]["items"]) == 2
        rows = AuditEntry.objects.order_by("alarm_name")
        assert [(r.alarm_name, r.result, r.state_after) for r in rows] == [
            (first.name, Result.OK, "acknowledged"), (second.name, Result.OK, "acknowledged")]
        for alarm in (first, second):
            assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED_ACKNOWLEDGED"

    def test_classic_writes_the_acknowledge_tags(self):
        fault = self.raise_and_poll("line-classic", "Conveyor_Fault")
        other = self.raise_and_poll("line-classic", "Pump_Fault")
        self.poll("line-classic")
        self.client.force_login(self.line_operator)
        response = self.ack_all_post(site="line-classic", count="2")
        assert response.status_code == 200, response.content
        assert 'data-acknowledged="2" data-of="2"' in response.content.decode()
        # Classic acknowledges by writing each alarm's acknowledge tag, in one tag write.
        [write] = self.wincc_writes()
        assert (write["action"], len(write["items"])) == ("write", 2)
        for alarm in (fault, other):
            assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED_ACKNOWLEDGED"
        assert AuditEntry.objects.filter(result=Result.OK).count() == 2

    def test_the_outcome_is_told_per_row(self):
        first = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        second = self.raise_and_poll("oven-unified", "Oven_Zone2_Temp_H")
        self.poll("oven-unified")
        # Someone acknowledges the first in WinCC before the next poll shows it.
        with open_client(get_config().known_site("oven-unified").connection(write=True)) as c:
            assert c.acknowledge([(first.name, first.instance_id)])[0].ok
        self.client.force_login(self.operator)
        html = self.ack_all_post(count="2").content.decode()
        assert 'data-acknowledged="1" data-of="2"' in html
        assert f'data-ack-row="{first.name}:{first.instance_id}" data-result="refused"' in html
        assert "1 of 2 acknowledged on Oven (WinCC Unified)." in html
        # The failure says why, in WinCC's words.
        assert f"{first.name} #{first.instance_id}</b>: not acknowledged: WinCC refused" in html
        assert f'data-ack-row="{second.name}:{second.instance_id}" data-result="ok"' in html
        # The one refused in the batch was tried once alone before it was reported.
        assert [len(w["items"]) for w in self.wincc_writes()] == [1, 2, 1]

    def test_a_shelved_alarm_is_not_shown_so_not_acknowledged(self):
        shown = self.raise_and_poll("utilities-restv1", "Tank_Level_H")
        self.client.force_login(self.operator)
        shelved = self.raise_and_poll("utilities-restv1", "Tank_Level_L")
        self.client.post("/alarms/shelve/", {
            "site": shelved.site, "name": shelved.name, "instance": shelved.instance_id,
            "minutes": "15", "reason": "level sensor being recalibrated"})
        response = self.ack_all_post(site="utilities-restv1", count="1")
        assert 'data-acknowledged="1" data-of="1"' in response.content.decode()
        acknowledged = AuditEntry.objects.filter(action="acknowledge", result=Result.OK)
        assert [e.alarm_name for e in acknowledged] == [shown.name]
        assert self.sim_state(shelved.name, shelved.instance_id) == "RAISED"

    def test_viewer_sends_nothing_to_wincc(self):
        self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        self.client.force_login(self.viewer)
        assert self.ack_all_post(count="1").status_code == 403
        assert self.wincc_writes() == []
        assert "RAISED_ACKNOWLEDGED" not in {a["state"] for a in self.sim.alarms()}

    def test_a_lost_answer_is_read_back_for_each_row(self):
        from wincc_bridge.transport import Transport

        real = Transport._read_bounded

        def cut(transport, response):  # WinCC acted; its answer arrives cut in half
            raw = real(transport, response)
            return raw[: len(raw) // 2] if b"acknowledgeAlarms" in response.request.content \
                else raw

        first = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        second = self.raise_and_poll("oven-unified", "Oven_Zone2_Temp_H")
        self.poll("oven-unified")
        self.client.force_login(self.operator)
        with mock.patch.object(Transport, "_read_bounded", cut):
            html = self.ack_all_post(count="2").content.decode()
        assert 'data-acknowledged="2" data-of="2"' in html
        rows = AuditEntry.objects.all()
        assert {(r.result, r.settled_at is not None) for r in rows} == {(Result.OK, True)}
        assert all("answer was lost" in r.message for r in rows)
        for alarm in (first, second):
            assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED_ACKNOWLEDGED"
        assert len(self.wincc_writes()) == 1
