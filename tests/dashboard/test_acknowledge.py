"""POST /alarms/ack/: permission, validation, the answers that send nothing, the real path on
the simulator (each dialect), refusals and a dead server."""

from __future__ import annotations

import json
import os
import ssl
import threading
from datetime import timedelta
from unittest import mock

import httpx
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client, TransactionTestCase
from django.utils import timezone
from kombu.exceptions import OperationalError

from dashboard import acknowledge as ack
from dashboard import refusals, roles
from dashboard.celery import SETTLE_TASK
from dashboard.models import AuditEntry
from dashboard.siteconfig import get_config
from tests.dashboard.acksupport import SimulatorSites, SitesConfigured, clear_audit_log
from tests.dashboard.base import BaseTestCase
from tests.fixtures.simulator import wait_until
from wincc_bridge.client import open_client
from wincc_bridge.models import AlarmState
from wincc_ingest import codec, store

Result = AuditEntry.Result


class AcknowledgeRefusedTestCase(SitesConfigured, BaseTestCase):
    def assert_nothing_sent(self, alarm):
        # The per-alarm lock is the only way to WinCC; an untouched lock means no call.
        lock = store.alarm_ack_lock(alarm.site, alarm.name, alarm.instance_id)
        assert self.redis.get(lock) is None

    def test_viewer_gets_403_and_a_denied_row(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.viewer)
        response = self.ack_post(alarm)
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/plain")
        assert b"may not acknowledge" in response.content
        entry = AuditEntry.objects.get()
        assert (entry.username, entry.result) == ("viewer", Result.DENIED)
        assert (entry.site_id, entry.alarm_name, entry.instance_id) == (
            "oven-unified", "Oven_Zone1_Temp_HH", 1)
        assert entry.device == "TestTablet/1.0"
        assert entry.completed_at is None  # final when written, never pending
        assert entry.remote_addr == "127.0.0.1"
        self.assert_nothing_sent(alarm)

    def test_anonymous_gets_403_and_a_row(self):
        alarm = self.seed_alarm()
        response = self.ack_post(alarm)
        assert response.status_code == 403
        entry = AuditEntry.objects.get()
        assert (entry.username, entry.user, entry.result) == ("(anonymous)", None, Result.DENIED)

    def test_operator_of_another_site_gets_403(self):
        alarm = self.seed_alarm(site="oven-unified")
        self.client.force_login(self.line_operator)
        response = self.ack_post(alarm)
        assert response.status_code == 403
        assert AuditEntry.objects.get().result == Result.DENIED
        self.assert_nothing_sent(alarm)

    def test_an_anonymous_burst_is_one_summary_row_and_then_429(self):
        alarm = self.seed_alarm()
        answers = [self.ack_post(alarm, comment=f"flood {n}") for n in range(20)]
        statuses = [answer.status_code for answer in answers]
        limit = ack.REFUSALS_PER_MINUTE
        assert statuses == [403] * limit + [429] * (20 - limit)
        assert 0 < int(answers[-1]["Retry-After"]) <= 60
        assert b"Too many refused requests" in answers[-1].content
        entry = AuditEntry.objects.get()
        assert (entry.username, entry.result, entry.repeat_count) == (
            "(anonymous)", Result.DENIED, 20)
        assert entry.comment == "flood 0"  # the first sender's words, not twenty of them
        assert entry.last_at >= entry.created_at
        self.assert_nothing_sent(alarm)

    def test_anonymous_refusals_are_summarised_per_address(self):
        alarm = self.seed_alarm()
        for address in ("10.0.0.1", "10.0.0.2", "10.0.0.1"):
            self.client.post("/alarms/ack/", {"site": alarm.site}, REMOTE_ADDR=address)
        counts = dict(AuditEntry.objects.values_list("remote_addr", "repeat_count"))
        assert counts == {"10.0.0.1": 2, "10.0.0.2": 1}

    def test_a_persons_refusals_beyond_the_budget_are_counted_on_one_row(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.viewer)
        budget = refusals.PERSON_REFUSALS_PER_MINUTE
        statuses = [self.ack_post(alarm).status_code for _ in range(budget + 15)]
        assert statuses[0] == 403 and statuses[-1] == 429
        rows = AuditEntry.objects.order_by("created_at", "id")
        # The budget's rows one each, then one row counts the rest: every attempt is counted.
        assert [row.repeat_count for row in rows] == [1] * (budget - 1) + [16]
        assert sum(row.repeat_count for row in rows) == budget + 15
        assert {(row.username, row.result) for row in rows} == {("viewer", Result.DENIED)}
        self.assert_nothing_sent(alarm)

    def test_the_budget_is_per_person(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.viewer)
        for _ in range(refusals.PERSON_REFUSALS_PER_MINUTE + 5):
            self.ack_post(alarm)
        self.client.force_login(self.line_operator)
        self.ack_post(self.seed_alarm(site="oven-unified"))
        rows = dict(AuditEntry.objects.filter(username="line_operator")
                    .values_list("username", "repeat_count"))
        assert rows == {"line_operator": 1}

    def test_after_a_minute_the_budget_starts_again(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.viewer)
        start = timezone.now()
        for _ in range(refusals.PERSON_REFUSALS_PER_MINUTE + 3):
            self.ack_post(alarm)
        later = start + timedelta(seconds=61)
        with mock.patch("django.utils.timezone.now", return_value=later):
            self.ack_post(alarm)
        assert AuditEntry.objects.filter(created_at__gte=later, repeat_count=1).count() == 1

    def test_get_is_not_allowed(self):
        self.client.force_login(self.operator)
        assert self.client.get("/alarms/ack/").status_code == 405

    def test_post_without_csrf_token_is_refused(self):
        alarm = self.seed_alarm()
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.operator)
        response = client.post("/alarms/ack/", {"site": alarm.site, "name": alarm.name,
                                                "instance": "1", "state": "unacknowledged"})
        assert response.status_code == 403
        self.assert_nothing_sent(alarm)

    def test_malformed_fields_get_400_naming_the_field(self):
        self.client.force_login(self.operator)
        alarm = self.seed_alarm()
        cases = [
            ("name", {"name": ""}),
            ("instance", {"instance": "one"}),
            ("instance", {"instance": "²"}),
            ("instance", {"instance": "1" * 19}),
            ("state", {"state": "gone-fishing"}),
            ("comment", {"comment": "x" * 1001}),
        ]
        for field, bad in cases:
            with self.subTest(bad=bad):
                response = self.ack_post(alarm, **bad)
                assert response.status_code == 400
                assert field.encode() in response.content
        assert self.ack_post(None).status_code == 400
        results = set(AuditEntry.objects.values_list("result", flat=True))
        assert results == {Result.ERROR}
        assert AuditEntry.objects.count() == len(cases) + 1
        self.assert_nothing_sent(alarm)

    def test_unknown_site_gets_404(self):
        self.client.force_login(self.operator)
        alarm = self.seed_alarm(site="nowhere")
        response = self.ack_post(alarm)
        assert response.status_code == 404
        assert b"nowhere" in response.content
        assert AuditEntry.objects.get().message == "Unknown site 'nowhere'."

    def test_alarm_no_longer_active(self):
        self.client.force_login(self.operator)
        alarm = self.seed_alarm()
        self.redis.delete(store.site_alarms("oven-unified"))
        response = self.ack_post(alarm)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-alarm="oven-unified:Oven_Zone1_Temp_HH:1"' in html
        assert 'data-state="normal"' in html
        assert "no longer active" in html
        assert 'data-action="ack"' not in html
        assert AuditEntry.objects.get().result == Result.STALE

    def test_an_acknowledgement_at_the_wincc_station_says_in_wincc(self):
        self.seed_alarm(state=AlarmState.ACKNOWLEDGED, acknowledged_by="hmi-user",
                        ack_time=timezone.now())
        self.client.force_login(self.viewer)
        html = self.client.get("/alarms/").content.decode()
        assert "by hmi-user in WinCC" in html and "via the dashboard" not in html

    def test_already_acknowledged_names_who(self):
        self.client.force_login(self.operator)
        alarm = self.seed_alarm(state=AlarmState.ACKNOWLEDGED, acknowledged_by="hmi-user")
        response = self.ack_post(alarm, state="unacknowledged")
        assert response.status_code == 200
        assert "Already acknowledged by hmi-user in WinCC." in response.content.decode()
        assert 'data-state="acknowledged"' in response.content.decode()
        entry = AuditEntry.objects.get()
        assert (entry.result, entry.state_before, entry.state_after) == (
            Result.DUPLICATE, "acknowledged", "acknowledged")

    def test_state_changed_since_seen_sends_nothing(self):
        self.client.force_login(self.operator)
        alarm = self.seed_alarm(state=AlarmState.RETURNED_UNACKNOWLEDGED)
        response = self.ack_post(alarm, state="unacknowledged")
        html = response.content.decode()
        assert "changed to Returned to normal, unacknowledged since you saw it" in html
        # The person now sees the current state, with the button to acknowledge it.
        assert 'data-state="returned_unacknowledged"' in html
        assert 'data-action="ack"' in html
        assert AuditEntry.objects.get().result == Result.STALE
        self.assert_nothing_sent(alarm)

    def test_classic_alarm_without_ack_tag_is_explained(self):
        self.client.force_login(self.operator)
        alarm = self.seed_alarm(site="line-classic", name="Tank_Level_LL")
        response = self.ack_post(alarm)
        assert response.status_code == 200
        assert "WinCC Classic has no acknowledge call" in response.content.decode()
        entry = AuditEntry.objects.get()
        assert entry.result == Result.ERROR
        self.assert_nothing_sent(alarm)

    def test_someone_else_acknowledging_gets_a_clear_answer(self):
        self.client.force_login(self.operator)
        alarm = self.seed_alarm()
        lock = store.alarm_ack_lock(alarm.site, alarm.name, alarm.instance_id)
        self.redis.set(lock, json.dumps({"user": "anna", "phase": "sending"}), ex=30)
        response = self.ack_post(alarm)
        html = response.content.decode()
        assert "Being acknowledged by anna" in html
        assert 'data-action="ack"' not in html
        assert AuditEntry.objects.get().result == Result.DUPLICATE
        assert json.loads(self.redis.get(lock))["user"] == "anna"

    def test_just_acknowledged_by_someone_else(self):
        self.client.force_login(self.operator)
        alarm = self.seed_alarm()
        lock = store.alarm_ack_lock(alarm.site, alarm.name, alarm.instance_id)
        self.redis.set(lock, json.dumps({"user": "anna", "phase": "done"}), ex=30)
        html = self.ack_post(alarm).content.decode()
        assert "Already acknowledged by anna via the dashboard." in html
        assert 'data-state="acknowledged"' in html

    def test_unreadable_alarm_state_answers_503(self):
        self.client.force_login(self.operator)
        alarm = self.seed_alarm()
        self.redis.hset(store.site_alarms(alarm.site), alarm.key, "{not json")
        response = self.ack_post(alarm)
        assert response.status_code == 503
        assert b"nothing was sent" in response.content
        assert AuditEntry.objects.get().result == Result.ERROR
        self.assert_nothing_sent(alarm)


class AcknowledgeDeadServerTestCase(SitesConfigured, BaseTestCase):
    """Nothing listens at the sites' address: a plain connection error, the row kept."""

    def test_dead_server_gives_a_plain_error_and_frees_the_alarm(self):
        self.client.force_login(self.operator)
        alarm = self.seed_alarm()
        response = self.ack_post(alarm, comment="checked on site")
        assert response.status_code == 200
        html = response.content.decode()
        assert "WinCC could not be reached" in html
        assert 'data-state="unacknowledged"' in html
        assert 'data-action="ack"' in html  # so the operator can try again
        entry = AuditEntry.objects.get()
        assert entry.result == Result.ERROR
        assert entry.message.startswith("WinCC could not be reached: ")
        assert entry.completed_at is not None
        assert (entry.state_before, entry.state_after) == ("unacknowledged", "unacknowledged")
        assert entry.comment == "checked on site"
        lock = store.alarm_ack_lock(alarm.site, alarm.name, alarm.instance_id)
        assert self.redis.get(lock) is None


class AcknowledgeOnSimulatorTestCase(SimulatorSites, BaseTestCase):
    """The real path: the real poller fills Redis from the simulator, the real client calls it."""

    def assert_acknowledged(self, site: str, name: str, sim_state: str):
        alarm = self.raise_and_poll(site, name)
        assert alarm.state == AlarmState.UNACKNOWLEDGED
        self.client.force_login(self.operator)
        response = self.ack_post(alarm, comment="seen")
        assert response.status_code == 200
        html = response.content.decode()
        assert f'data-alarm="{site}:{name}:{alarm.instance_id}"' in html
        assert 'data-state="acknowledged"' in html
        assert 'data-action="ack"' not in html
        entry = AuditEntry.objects.get()
        assert (entry.result, entry.state_before, entry.state_after) == (
            Result.OK, "unacknowledged", "acknowledged")
        assert (entry.username, entry.comment) == ("operator", "seen")
        assert self.sim_state(name, alarm.instance_id) == sim_state
        writes = self.wincc_writes()
        assert len(writes) == 1
        assert (writes[0]["user"], writes[0]["allowed"]) == (self.sim.users.rw.username, True)
        return alarm

    def test_unified(self):
        self.assert_acknowledged("oven-unified", "Oven_Zone1_Temp_HH", "RAISED_ACKNOWLEDGED")

    def test_the_list_says_by_whom_and_via_the_dashboard_or_in_wincc(self):
        mine = self.assert_acknowledged("oven-unified", "Oven_Zone1_Temp_HH",
                                        "RAISED_ACKNOWLEDGED")
        # Another alarm acknowledged with the dashboard's API user, but not through this
        # dashboard's pages (no audit row names a person).
        theirs = self.raise_and_poll("oven-unified", "Oven_Zone2_Temp_H")
        with open_client(get_config().known_site("oven-unified").connection(write=True)) as c:
            assert c.acknowledge([(theirs.name, theirs.instance_id)])[0].ok
        self.poll("oven-unified")
        html = self.client.get("/alarms/?site=oven-unified").content.decode()
        row = html.partition(f'data-alarm="oven-unified:{mine.name}:')[2].partition("</li>")[0]
        assert "by operator via the dashboard" in row
        # WinCC names the dashboard's read-write API user for both; only the audit log knows
        # the person, and an acknowledgement the dashboard did not make is not claimed.
        row = html.partition(f'data-alarm="oven-unified:{theirs.name}:')[2].partition(
            "</li>")[0]
        assert "via the dashboard" in row and "by operator" not in row

    def test_rest_v1(self):
        self.assert_acknowledged("utilities-restv1", "Tank_Level_HH", "RAISED_ACKNOWLEDGED")

    def test_classic_through_its_acknowledge_tag(self):
        self.assert_acknowledged("line-classic", "Conveyor_Fault", "RAISED_ACKNOWLEDGED")
        assert self.wincc_writes()[0]["action"] == "write"

    def queued_polls(self) -> list[dict]:
        """The poll tasks waiting in Celery's queues (the Redis lists outside the product's
        own keys)."""
        queues = [key for key in self.redis.keys("*")
                  if not key.startswith(store.PREFIX) and self.redis.type(key) == "list"]
        queued = [json.loads(raw)["headers"] for key in queues
                  for raw in self.redis.lrange(key, 0, -1)]
        return [{"task": h.get("task"), "args": h.get("argsrepr")} for h in queued
                if h.get("task") == "dashboard.tasks.poll_site"]

    def test_the_acknowledged_alarm_is_recorded_at_once_without_a_poll(self):
        changes = self.redis.pubsub(ignore_subscribe_messages=True)
        changes.subscribe(store.CHANGES_CHANNEL)
        self.addCleanup(changes.close)
        alarm = self.assert_acknowledged("oven-unified", "Oven_Zone2_Temp_HH",
                                         "RAISED_ACKNOWLEDGED")
        # Read again from WinCC and written through the poller's push path, before the answer.
        stored = codec.read_alarms(self.redis, "oven-unified")[alarm.key]
        assert stored.state == AlarmState.ACKNOWLEDGED
        assert stored.acknowledged_by == self.sim.users.rw.username
        health = codec.read_health(self.redis, "oven-unified")
        assert health.push_source == "acknowledge" and health.last_push is not None
        published = []
        for _ in range(20):  # the subscription's confirmation comes first, as None
            message = changes.get_message(timeout=0.05)
            if message is not None:
                published.append(json.loads(message["data"]))
        assert any(c.get("site") == "oven-unified" and c.get("alarms") for c in published)
        journal = [fields for _, fields in self.redis.xrange(store.JOURNAL_STREAM)]
        assert any(alarm.name in json.dumps(f) and "acknowledged" in json.dumps(f)
                   for f in journal), journal
        assert self.queued_polls() == []

    def refuse_reading_again(self) -> None:
        """The read-only user's password goes wrong (after the alarm was polled): WinCC
        refuses the read after the acknowledgement, the read-write user still acknowledges."""
        patcher = mock.patch.dict(os.environ, {"WINCC_SIM_RO_PASSWORD": "not-the-password"})
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_when_wincc_cannot_be_read_again_a_poll_is_asked_for(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone3_Temp_HH")
        self.refuse_reading_again()
        self.client.force_login(self.operator)
        html = self.ack_post(alarm).content.decode()
        assert 'data-state="acknowledged"' in html
        assert AuditEntry.objects.get().result == Result.OK
        assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED_ACKNOWLEDGED"
        # Redis shows what the last poll read until the poll asked for reads it again.
        stored = codec.read_alarms(self.redis, "oven-unified")[alarm.key]
        assert stored.state == AlarmState.UNACKNOWLEDGED
        assert self.queued_polls() == [{"task": "dashboard.tasks.poll_site",
                                        "args": "['oven-unified']"}]

    def test_no_broker_still_answers_the_operator(self):
        from dashboard.celery import app

        alarm = self.raise_and_poll("oven-unified", "Oven_Zone3_Temp_HH")
        self.refuse_reading_again()
        self.client.force_login(self.operator)
        refused = OperationalError("Error 111 connecting to the broker. Connection refused.")
        with mock.patch.object(app, "send_task", side_effect=refused), \
                self.assertLogs("dashboard.celery", "WARNING") as logs:
            html = self.ack_post(alarm).content.decode()
        assert 'data-state="acknowledged"' in html
        assert AuditEntry.objects.get().result == Result.OK
        assert "immediate poll of oven-unified not requested" in logs.output[0]

    def test_the_processes_pollers_follow_the_configuration(self):
        from dashboard import tasks
        from dashboard.siteconfig import reload_config

        first = tasks.pollers()
        assert tasks.pollers() is first
        reload_config()  # a new configuration: the sites of the acknowledgement's push
        assert tasks.pollers() is not first

    def test_second_click_after_success_sends_nothing(self):
        alarm = self.assert_acknowledged("oven-unified", "Oven_Zone1_Temp_HH",
                                         "RAISED_ACKNOWLEDGED")
        response = self.ack_post(alarm)
        assert "Already acknowledged by operator via the dashboard." in response.content.decode()
        assert len(self.wincc_writes()) == 1
        assert AuditEntry.objects.first().result == Result.DUPLICATE

    def test_second_click_before_the_list_is_read_again_sends_nothing(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        self.refuse_reading_again()
        self.client.force_login(self.operator)
        self.ack_post(alarm)
        # Redis still shows the alarm unacknowledged until the next poll: the lock answers.
        response = self.ack_post(alarm)
        assert "Already acknowledged by operator via the dashboard." in response.content.decode()
        assert len(self.wincc_writes()) == 1
        assert AuditEntry.objects.first().result == Result.DUPLICATE

    def test_viewer_forged_post_never_reaches_wincc(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        self.client.force_login(self.viewer)
        assert self.ack_post(alarm).status_code == 403
        self.client.force_login(self.line_operator)
        assert self.ack_post(alarm).status_code == 403
        assert self.wincc_writes() == []
        assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED"
        assert list(AuditEntry.objects.values_list("result", flat=True)) == [Result.DENIED] * 2

    def test_wrong_write_password_is_a_plain_refusal(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        os.environ["WINCC_SIM_RW_PASSWORD"] = "not-the-password"  # restored by the mixin
        self.client.force_login(self.operator)
        html = self.ack_post(alarm).content.decode()
        assert "WinCC refused the login of the acknowledging API user" in html
        assert 'data-state="unacknowledged"' in html
        entry = AuditEntry.objects.get()
        assert entry.result == Result.REFUSED
        assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED"
        lock = store.alarm_ack_lock(alarm.site, alarm.name, alarm.instance_id)
        assert self.redis.get(lock) is None

    def test_refusal_by_wincc_is_shown_as_is(self):
        alarm = self.raise_and_poll("utilities-restv1", "Tank_Level_HH")
        # Someone at the HMI acknowledges first; the dashboard has not polled since.
        trust = ssl.create_default_context(cafile=self.sim.ca_file)
        with httpx.Client(base_url=self.sim.url, verify=trust, timeout=5) as hmi:
            hmi.post("/api/v1/alarms/acknowledge",
                     headers={"Authorization": f"Bearer {self.sim.users.rw.token}"},
                     json={"alarms": [{"name": alarm.name, "instance_id": alarm.instance_id}]})
        self.client.force_login(self.operator)
        html = self.ack_post(alarm).content.decode()
        assert "WinCC refused: " in html
        assert AuditEntry.objects.get().result == Result.REFUSED

    def test_stopped_server_is_a_plain_connection_error(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        self.sim.stop_listener()
        self.client.force_login(self.operator)
        html = self.ack_post(alarm).content.decode()
        assert "WinCC could not be reached" in html
        entry = AuditEntry.objects.get()
        assert (entry.result, entry.state_after) == (Result.ERROR, "unacknowledged")
        assert entry.completed_at is not None


def cut_acknowledge_answers(real_read):
    """Transport._read_bounded that cuts WinCC's answer to an acknowledge in half, as a
    broken proxy does: WinCC has acted, its answer never arrives whole."""

    def read(transport, response):
        raw = real_read(transport, response)
        if response.request.url.path.endswith("/acknowledge"):
            return raw[: len(raw) // 2]
        return raw

    return read


class AcknowledgeAnswerLostTestCase(SimulatorSites, BaseTestCase):
    """WinCC had the request but its answer was lost: "unknown", then what WinCC shows."""

    def click(self, site: str, name: str, **faults):
        """Raise and poll the alarm, turn on `faults` at WinCC, acknowledge it."""
        alarm = self.raise_and_poll(site, name)
        if faults:
            self.sim.set_faults(**faults)
        self.client.force_login(self.operator)
        return alarm, self.ack_post(alarm)

    def queued_settlements(self) -> list[str]:
        queues = [key for key in self.redis.keys("*")
                  if not key.startswith(store.PREFIX) and self.redis.type(key) == "list"]
        headers = [json.loads(raw)["headers"] for key in queues
                   for raw in self.redis.lrange(key, 0, -1)]
        return [h["argsrepr"] for h in headers if h.get("task") == SETTLE_TASK]

    def test_cut_off_answer_is_settled_at_once_by_reading_back(self):
        from wincc_bridge.transport import Transport

        cut = cut_acknowledge_answers(Transport._read_bounded)
        with mock.patch.object(Transport, "_read_bounded", cut):
            alarm, response = self.click("utilities-restv1", "Tank_Level_HH")
        html = response.content.decode()
        assert "Acknowledged (WinCC&#x27;s answer was lost; read back from WinCC)." in html
        assert 'data-state="acknowledged"' in html
        entry = AuditEntry.objects.get()
        assert (entry.result, entry.state_after) == (Result.OK, "acknowledged")
        assert entry.completed_at is not None and entry.settled_at is not None
        assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED_ACKNOWLEDGED"
        assert len(self.wincc_writes()) == 1
        assert self.queued_settlements() == []

    def test_malformed_answer_is_unknown_until_wincc_can_be_read(self):
        alarm, response = self.click("utilities-restv1", "Tank_Level_HH", malformed_rate=1.0)
        html = response.content.decode()
        assert "WinCC&#x27;s answer was lost; checking the alarm in WinCC..." in html
        assert 'class="ack-result checking"' in html
        assert 'data-action="ack"' not in html  # no second click while it is checked
        entry = AuditEntry.objects.get()
        assert (entry.result, entry.state_after, entry.settled_at) == (Result.UNKNOWN, "", None)
        # WinCC did acknowledge; the read-back at once could not tell (its answer broke too).
        assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED_ACKNOWLEDGED"
        assert self.queued_settlements() == [f"['utilities-restv1', {entry.pk}, 1]"]

        self.sim.clear_faults()  # the next poll's read-back
        assert ack.settle(entry.pk, 1) == Result.OK
        entry.refresh_from_db()
        assert (entry.result, entry.state_after) == (Result.OK, "acknowledged")
        assert entry.settled_at is not None
        assert ack.settle(entry.pk, 2) == Result.OK  # a late duplicate changes nothing
        assert len(self.wincc_writes()) == 1

    def test_server_error_settles_as_not_acknowledged(self):
        alarm, _ = self.click("oven-unified", "Oven_Zone1_Temp_HH", error_rate=1.0)
        entry = AuditEntry.objects.get()
        assert entry.result == Result.UNKNOWN
        self.sim.clear_faults()
        assert ack.settle(entry.pk, 1) == Result.ERROR
        entry.refresh_from_db()
        assert (entry.result, entry.state_after) == (Result.ERROR, "unacknowledged")
        assert "still Unacknowledged" in entry.message
        assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED"
        lock = store.alarm_ack_lock(alarm.site, alarm.name, alarm.instance_id)
        assert self.redis.get(lock) is None  # the operator may try again

    def test_unreadable_wincc_asks_again_then_stays_unknown(self):
        self.click("oven-unified", "Oven_Zone1_Temp_HH", malformed_rate=1.0)
        entry = AuditEntry.objects.get()
        assert ack.settle(entry.pk, 1) == Result.UNKNOWN
        assert f"['oven-unified', {entry.pk}, 2]" in self.queued_settlements()
        before = len(self.queued_settlements())
        assert ack.settle(entry.pk, ack.SETTLE_ATTEMPTS) == Result.UNKNOWN
        assert len(self.queued_settlements()) == before  # the last attempt asks no more
        assert AuditEntry.objects.get().result == Result.UNKNOWN


class ConcurrentAcknowledgeTestCase(SimulatorSites, TransactionTestCase):
    """Two operators click at the same moment: one WinCC call, a clear answer to both.
    (Committed rows: each request runs in its own thread with its own connection.)"""

    def setUp(self):
        super().setUp()
        operators = roles.ensure_role(roles.OPERATORS)
        self.anna = User.objects.create_user("anna")
        self.ben = User.objects.create_user("ben")
        for person in (self.anna, self.ben):
            person.groups.add(operators)

    def tearDown(self):
        clear_audit_log()
        super().tearDown()

    def test_two_operators_at_once_make_one_call(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        self.sim.set_faults(latency_ms=700)  # anna's call is still on the wire when ben clicks
        clients = {person.username: Client() for person in (self.anna, self.ben)}
        clients["anna"].force_login(self.anna)
        clients["ben"].force_login(self.ben)
        fields = {"site": alarm.site, "name": alarm.name, "instance": alarm.instance_id,
                  "state": alarm.state.value}
        answers = {}

        def click(username: str) -> None:
            try:
                answers[username] = clients[username].post("/alarms/ack/", fields)
            finally:
                connections.close_all()

        first = threading.Thread(target=click, args=("anna",))
        first.start()
        lock = store.alarm_ack_lock(alarm.site, alarm.name, alarm.instance_id)
        wait_until(lambda: self.redis.get(lock), timeout=10, interval=0.01)
        click("ben")
        first.join(timeout=30)

        anna, ben = answers["anna"].content.decode(), answers["ben"].content.decode()
        assert 'data-state="acknowledged"' in anna
        assert "Being acknowledged by anna; nothing more was sent." in ben
        assert 'data-action="ack"' not in ben
        assert len(self.wincc_writes()) == 1
        assert self.sim_state(alarm.name, alarm.instance_id) == "RAISED_ACKNOWLEDGED"
        results = dict(AuditEntry.objects.values_list("username", "result"))
        assert results == {"anna": Result.OK, "ben": Result.DUPLICATE}
