"""/tags/write/: who may write, the values refused in plain words, the dialog, and the real
path on the simulator (each dialect) with the refusals checked in its request log."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from django.db import DatabaseError, connection, transaction
from django.test import Client

from dashboard import writes
from dashboard.celery import SETTLE_WRITE_TASK
from dashboard.models import AuditEntry, WallScreen
from dashboard.views.wall import SESSION_KEY as WALL_SESSION_KEY
from tests.dashboard.acksupport import SimulatorSites, SitesConfigured
from tests.dashboard.base import PASSWORD, BaseTestCase
from wincc_bridge.models import Quality, TagValue
from wincc_ingest import codec, store

Result = AuditEntry.Result
URL = "/tags/write/"

# The test sites' writable tags (on a server where nothing listens).
TAGS = {
    "oven-unified": [
        {"name": "Oven_Zone1_Setpoint", "label": "Zone 1 setpoint", "unit": "°C",
         "writable": True, "write": {"min": 0, "max": 400, "step": 0.5}},
        {"name": "Oven_Zone1_Temp", "label": "Zone 1 temperature", "unit": "°C"},
    ],
    "utilities-restv1": [
        {"name": "Tank_InletPump_On", "label": "Inlet pump", "writable": True},
    ],
    "line-classic": [
        {"name": "Conveyor_Speed_Setpoint", "label": "Conveyor speed setpoint",
         "unit": "m/min", "writable": True, "write": {"min": 0, "max": 60}},
    ],
}


def current_health(site: str) -> dict[str, str]:
    now = datetime.now(UTC)
    return codec.encode_health(codec.SiteHealth(
        site=site, interval=1.0, last_attempt=now, last_success=now, duration_ms=5.0,
        latency_ms=3.0, failures=0, last_error="", backoff_until=None, tag_count=1,
        alarm_count=0))


class WriteSites(SitesConfigured):
    """The three test sites with writable tags, nothing listening at their address."""

    confirm_password = False

    def write_site_config(self, path: Path) -> None:
        super().write_site_config(path)
        config = json.loads(path.read_text())
        for site in config["sites"]:
            site["tags"] = TAGS[site["id"]]
            site["confirm_password_for_writes"] = self.confirm_password
        path.write_text(json.dumps(config))

    def seed_current(self, site: str = "oven-unified", tag: str = "Oven_Zone1_Setpoint",
                     value=180.0) -> None:
        """The site as a current poll leaves it in Redis."""
        self.redis.hset(store.site_health(site), mapping=current_health(site))
        stored = TagValue(tag, value, Quality.GOOD, timestamp=datetime.now(UTC))
        self.redis.hset(store.site_values(site), tag,
                        codec.encode_value(stored, datetime.now(UTC)))

    def write_post(self, value="185.5", site="oven-unified", tag="Oven_Zone1_Setpoint",
                   client: Client | None = None, headers: dict | None = None, **fields):
        data = {"site": site, "tag": tag, "value": value, **fields}
        return (client or self.client).post(URL, data, HTTP_USER_AGENT="TestTablet/1.0",
                                            **(headers or {}))

    def login(self, user) -> None:
        self.client.force_login(user)

    def assert_nothing_sent(self, site="oven-unified", tag="Oven_Zone1_Setpoint") -> None:
        # The tag's lock is the only way to WinCC; an untouched lock means no call.
        assert self.redis.get(store.tag_write_lock(site, tag)) is None
        assert not AuditEntry.objects.filter(completed_at__isnull=False).exists()


class WriteRefusedTestCase(WriteSites, BaseTestCase):
    def test_viewer_gets_403_and_a_denied_row(self):
        self.seed_current()
        self.login(self.viewer)
        response = self.write_post()
        assert response.status_code == 403
        assert response.content == b"You may not write tags on this site."
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.username, entry.result) == ("write", "viewer", Result.DENIED)
        assert (entry.site_id, entry.tag_name, entry.value_requested) == (
            "oven-unified", "Oven_Zone1_Setpoint", "185.5")
        assert entry.device == "TestTablet/1.0"
        self.assert_nothing_sent()

    def test_operator_without_the_permission_gets_403(self):
        self.seed_current()
        for user in (self.operator, self.line_operator, self.auditor):
            self.login(user)
            assert self.write_post().status_code == 403
        assert list(AuditEntry.objects.values_list("result", flat=True)) == [Result.DENIED] * 3
        self.assert_nothing_sent()

    def test_anonymous_gets_403(self):
        self.seed_current()
        assert self.write_post().status_code == 403
        entry = AuditEntry.objects.get()
        assert (entry.username, entry.user, entry.result) == ("(anonymous)", None, Result.DENIED)

    def test_a_wall_screen_gets_403(self):
        self.seed_current()
        screen, token = WallScreen.issue(name="Hall", dashboard_id="overview")
        wall = Client()
        assert wall.get(screen.sign_in_path(token)).status_code == 302
        assert wall.session[WALL_SESSION_KEY] == screen.pk
        assert self.write_post(client=wall).status_code == 403
        # Even a setpoint writer's browser that also carries a wall screen's session.
        self.login(self.writer)
        session = self.client.session
        session[WALL_SESSION_KEY] = screen.pk
        session.save()
        assert self.write_post().status_code == 403
        assert AuditEntry.objects.filter(result=Result.DENIED).count() == 2
        self.assert_nothing_sent()

    def test_a_request_with_a_token_is_not_a_person(self):
        self.seed_current()
        self.login(self.writer)
        response = self.write_post(headers={"HTTP_AUTHORIZATION": "Bearer some-api-token"})
        assert response.status_code == 403
        self.assert_nothing_sent()

    def test_get_without_the_permission_gets_no_dialog(self):
        self.login(self.operator)
        response = self.client.get(URL, {"site": "oven-unified", "tag": "Oven_Zone1_Setpoint"})
        assert response.status_code == 403
        assert not AuditEntry.objects.exists()  # looking is not an attempt

    def test_post_without_csrf_token_is_refused(self):
        self.seed_current()
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.writer)
        assert self.write_post(client=client).status_code == 403
        self.assert_nothing_sent()

    def test_other_methods_are_not_allowed(self):
        self.login(self.writer)
        assert self.client.put(URL).status_code == 405
        assert self.client.delete(URL).status_code == 405

    def test_malformed_requests_get_400_naming_the_field(self):
        self.login(self.writer)
        response = self.client.post(URL, {"tag": "Oven_Zone1_Setpoint", "value": "1"})
        assert response.status_code == 400
        assert response.content == (
            b"Malformed request: the field 'site': This field is required.")
        response = self.write_post(value="1" * 65)
        assert response.status_code == 400
        assert b"the field 'value'" in response.content
        assert [e.result for e in AuditEntry.objects.all()] == [Result.ERROR] * 2
        self.assert_nothing_sent()

    def test_unknown_or_read_only_tags_get_404(self):
        self.login(self.writer)
        assert self.write_post(tag="No_Such_Tag").status_code == 404
        response = self.write_post(tag="Oven_Zone1_Temp")
        assert response.status_code == 404
        assert response.content == b"'Oven_Zone1_Temp' is not writable from the dashboard."
        assert self.write_post(site="boiler").status_code == 404
        assert self.client.get(URL, {"site": "oven-unified",
                                     "tag": "Oven_Zone1_Temp"}).status_code == 404

    def test_a_stale_site_is_refused_with_its_reason(self):
        self.login(self.writer)
        response = self.write_post()  # nothing polled yet
        assert response.status_code == 409
        html = response.content.decode()
        assert "is not current (never polled yet" in html
        assert "nothing was sent to WinCC" in html
        entry = AuditEntry.objects.get()
        assert (entry.result, entry.completed_at) == (Result.STALE, None)

        failing = current_health("oven-unified")
        failing["failures"] = "3"
        failing["last_error"] = "connection refused"
        self.redis.hset(store.site_health("oven-unified"), mapping=failing)
        response = self.write_post()
        assert response.status_code == 409
        assert "3 failed polls: connection refused" in response.content.decode()
        self.assert_nothing_sent()

    def test_unreadable_live_state_answers_503(self):
        self.login(self.writer)
        self.redis.hset(store.site_health("oven-unified"), mapping=current_health("oven-unified"))
        self.redis.set(store.site_values("oven-unified"), "not a hash")  # Redis says WRONGTYPE
        response = self.write_post()
        assert response.status_code == 503
        assert "cannot be read right now; nothing was sent" in response.content.decode()
        self.assert_nothing_sent()

    def test_someone_else_writing_gets_a_clear_answer(self):
        self.seed_current()
        self.redis.set(store.tag_write_lock("oven-unified", "Oven_Zone1_Setpoint"),
                       codec.encode_ack_holder(codec.AckHolder("anna")), ex=30)
        self.login(self.writer)
        response = self.write_post()
        assert response.status_code == 409
        assert "being written by anna; nothing more was sent" in response.content.decode()
        assert AuditEntry.objects.get().result == Result.DUPLICATE

    def test_refusals_from_one_address_turn_into_429(self):
        self.seed_current()
        self.login(self.viewer)
        statuses = [self.write_post().status_code for _ in range(12)]
        assert statuses[:10] == [403] * 10
        assert statuses[10:] == [429, 429]


class WriteValueRefusedTestCase(WriteSites, BaseTestCase):
    """Values that are not a value of the tag: refused in one plain sentence, nothing sent."""

    def refusal(self, value, **fields) -> str:
        response = self.write_post(value=value, **fields)
        assert response.status_code == 400, (value, response.status_code)
        html = response.content.decode()
        assert "Nothing was sent to WinCC." in html
        assert 'class="write-result refused"' in html
        return html

    def setUp(self):
        super().setUp()
        self.seed_current()
        self.seed_current("utilities-restv1", "Tank_InletPump_On", False)
        self.login(self.writer)

    def test_out_of_range(self):
        assert "400.5 °C is outside the range of Zone 1 setpoint, 0 to 400 °C." in (
            self.refusal("400.5"))
        assert "-1 °C is outside the range" in self.refusal("-1")

    def test_not_numbers(self):
        for value in ("NaN", "nan", "inf", "-Infinity", "12,5", "0x10", "1_000", "١٢",
                      "185.5.1", "abc", "1e5x"):
            assert "is not a number; write it with digits and a decimal point" in (
                self.refusal(value)), value

    def test_too_large_and_empty(self):
        assert "“1e999” is too large to be a value of Zone 1 setpoint." in self.refusal("1e999")
        assert "Enter the new value of Zone 1 setpoint: a number." in self.refusal("")
        assert "Enter the new value" in self.refusal("   ")

    def test_booleans_for_an_analog_tag(self):
        for value in ("true", "False", "on", "off"):
            assert "Zone 1 setpoint takes a number, not" in self.refusal(value), value

    def test_off_the_step(self):
        assert ("Zone 1 setpoint moves in steps of 0.5 °C from 0; 185.3 is not on a step."
                in self.refusal("185.3"))

    def test_a_switch_takes_on_or_off_only(self):
        site = {"site": "utilities-restv1", "tag": "Tank_InletPump_On"}
        for value in ("1", "0", "true", "yes", "", "2.5"):
            assert "Inlet pump takes on or off only" in self.refusal(value, **site), value

    def test_each_result_passes_the_one_counting_place(self):
        with self.assertLogs("dashboard.writes", "INFO") as logs:
            self.refusal("401")
        assert logs.output == [
            "INFO:dashboard.writes:write of oven-unified:Oven_Zone1_Setpoint by writer: error"]

    def test_every_refusal_is_an_audit_row(self):
        self.refusal("NaN")
        self.refusal("401")
        entries = list(AuditEntry.objects.order_by("id"))
        assert [(e.result, e.value_requested, e.completed_at) for e in entries] == [
            (Result.ERROR, "NaN", None), (Result.ERROR, "401", None)]
        self.assert_nothing_sent()


class WritePasswordConfirmationTestCase(WriteSites, BaseTestCase):
    confirm_password = True

    def test_a_wrong_password_sends_nothing(self):
        self.seed_current()
        self.login(self.writer)
        dialog = self.client.get(URL, {"site": "oven-unified", "tag": "Oven_Zone1_Setpoint"})
        assert 'name="password"' in dialog.content.decode()
        response = self.write_post(password="not-my-password")
        assert response.status_code == 403
        assert "The password is not right; nothing was sent to WinCC." in (
            response.content.decode())
        assert AuditEntry.objects.get().result == Result.DENIED
        self.assert_nothing_sent()


    def test_guessing_the_password_is_limited(self):
        self.seed_current()
        self.login(self.writer)
        statuses = [self.write_post(password=f"guess {n}").status_code for n in range(11)]
        assert statuses == [403] * 10 + [429]
        self.assert_nothing_sent()


class WritePasswordOnSimulatorTestCase(SimulatorSites, BaseTestCase):
    def write_site_config(self, path: Path) -> None:
        super().write_site_config(path)
        config = json.loads(path.read_text())
        for site in config["sites"]:
            site["confirm_password_for_writes"] = True
        path.write_text(json.dumps(config))

    def test_the_right_password_writes(self):
        self.poll("line-classic")
        self.client.force_login(self.writer)
        response = self.client.post(URL, {"site": "line-classic", "tag": "Conveyor_Speed_Setpoint",
                                          "value": "20", "password": PASSWORD})
        assert "WinCC took it" in response.content.decode()
        assert self.sim.value("Conveyor_Speed_Setpoint") == 20
        assert len(self.wincc_writes()) == 1


class WriteDialogTestCase(WriteSites, BaseTestCase):
    def test_the_dialog_shows_current_value_unit_and_limits(self):
        self.seed_current(value=182.5)
        self.login(self.writer)
        response = self.client.get(URL, {"site": "oven-unified", "tag": "Oven_Zone1_Setpoint"})
        assert response.status_code == 200
        html = response.content.decode()
        assert '<dialog class="write-dialog"' in html
        assert "Set Zone 1 setpoint" in html
        assert '<dd class="write-current">182.5 °C</dd>' in html
        assert '<dd class="write-limits">0 to 400 °C, in steps of 0.5</dd>' in html
        assert 'name="password"' not in html
        assert "write-stale" not in html

    def test_a_switch_offers_on_and_off(self):
        self.seed_current("utilities-restv1", "Tank_InletPump_On", True)
        self.login(self.writer)
        html = self.client.get(URL, {"site": "utilities-restv1",
                                     "tag": "Tank_InletPump_On"}).content.decode()
        assert '<dd class="write-current">ON</dd>' in html
        assert 'type="radio" name="value" value="on"' in html
        assert 'type="radio" name="value" value="off"' in html

    def test_a_stale_site_is_said_in_the_dialog(self):
        self.login(self.writer)
        html = self.client.get(URL, {"site": "oven-unified",
                                     "tag": "Oven_Zone1_Setpoint"}).content.decode()
        assert "Not current: never polled yet" in html
        assert '<dd class="write-current">***' in html

    def test_malformed_query_is_400(self):
        self.login(self.writer)
        assert self.client.get(URL, {"site": "oven-unified"}).status_code == 400

    def test_only_a_writer_sees_the_edit_control_on_the_tile(self):
        self.seed_current()
        self.login(self.writer)
        html = self.client.get("/").content.decode()
        assert 'data-action="write"' in html
        assert "tag=Oven_Zone1_Setpoint" in html
        self.login(self.operator)
        assert 'data-action="write"' not in self.client.get("/").content.decode()


class WriteAuditRowTestCase(WriteSites, BaseTestCase):
    def test_the_values_of_a_write_row_never_change(self):
        entry = AuditEntry.objects.create(
            username="writer", action="write", site_id="oven-unified",
            tag_name="Oven_Zone1_Setpoint", value_before="180.0", value_requested="185.5")
        entry.record_result(Result.OK, message="Written.", value_after="185.5")
        entry.refresh_from_db()
        assert (entry.value_after, entry.result) == ("185.5", Result.OK)
        # The ORM refuses; the database's triggers refuse a hand-written UPDATE too.
        for column, value in (("value_requested", "999"), ("value_before", "1"),
                              ("tag_name", "Other"), ("value_after", "0")):
            with self.subTest(column=column), \
                    self.assertRaisesRegex(DatabaseError, "append-only"), \
                    transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"UPDATE dashboard_auditentry SET {column} = %s WHERE id = %s",
                               [value, entry.pk])


class WriteOnSimulatorTestCase(SimulatorSites, BaseTestCase):
    """The real path: the real poller fills Redis from the simulator, the real client writes
    with the read-write user and reads the value back with the read-only one."""

    def write_site_config(self, path: Path) -> None:
        # The simulated plant's only REST v1 writable tag is a switch; one of its setpoints,
        # served on every face, gives that dialect a number to write too.
        super().write_site_config(path)
        config = json.loads(path.read_text())
        utilities = next(s for s in config["sites"] if s["id"] == "utilities-restv1")
        utilities["tags"].append({"name": "Conveyor_Speed_Setpoint", "label": "Line speed",
                                  "unit": "m/min", "writable": True,
                                  "write": {"min": 0, "max": 60, "step": 0.5}})
        path.write_text(json.dumps(config))

    def write_and_read_back(self, site: str, tag: str, value: str, expected):
        self.poll(site)
        before = self.sim.value(tag)
        self.client.force_login(self.writer)
        response = self.client.post(URL, {"site": site, "tag": tag, "value": value})
        assert response.status_code == 200, response.content
        html = response.content.decode()
        assert "WinCC took it" in html
        assert 'class="write-result taken"' in html
        assert self.sim.value(tag) == expected
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.username, entry.result) == ("write", "writer", Result.OK)
        assert entry.value_before == writes.value_text(before)
        assert entry.value_after == writes.value_text(expected)
        sent = self.wincc_writes()
        assert len(sent) == 1
        assert (sent[0]["user"], sent[0]["allowed"]) == (self.sim.users.rw.username, True)
        return entry

    def test_unified(self):
        self.write_and_read_back("oven-unified", "Oven_Zone1_Setpoint", "185.5", 185.5)

    def test_classic(self):
        self.write_and_read_back("line-classic", "Conveyor_Speed_Setpoint", "12.5", 12.5)

    def test_rest_v1(self):
        self.write_and_read_back("utilities-restv1", "Conveyor_Speed_Setpoint", "30.5", 30.5)

    def test_rest_v1_switch(self):
        self.write_and_read_back("utilities-restv1", "Tank_InletPump_On", "on", True)

    def test_refused_people_and_values_never_reach_wincc(self):
        site, tag = "oven-unified", "Oven_Zone1_Setpoint"
        self.poll(site)
        data = {"site": site, "tag": tag, "value": "190"}
        for user, status in ((self.viewer, 403), (self.operator, 403)):
            self.client.force_login(user)
            assert self.client.post(URL, data).status_code == status
        screen, token = WallScreen.issue(name="Hall", dashboard_id="overview")
        wall = Client()
        wall.get(screen.sign_in_path(token))
        assert wall.post(URL, data).status_code == 403
        self.client.force_login(self.writer)
        assert self.client.post(URL, data, HTTP_AUTHORIZATION="Bearer an-api-token"
                                ).status_code == 403
        for value in ("400.5", "NaN", "1e999", "", "true"):
            assert self.client.post(URL, {**data, "value": value}).status_code == 400
        assert self.wincc_writes() == []
        assert len(AuditEntry.objects.all()) == 9

    def test_wincc_refusing_is_shown_as_is(self):
        self.poll("oven-unified")
        os.environ["WINCC_SIM_RW_PASSWORD"] = "not-the-password"  # restored by the mixin
        self.client.force_login(self.writer)
        html = self.client.post(URL, {"site": "oven-unified", "tag": "Oven_Zone1_Setpoint",
                                      "value": "190"}).content.decode()
        assert "WinCC refused the login of the writing API user" in html
        assert 'class="write-result not-taken"' in html
        entry = AuditEntry.objects.get()
        assert entry.result == Result.REFUSED
        assert self.redis.get(store.tag_write_lock("oven-unified", "Oven_Zone1_Setpoint")) is None


def cut_write_answers(real_read):
    """Transport._read_bounded that cuts WinCC's answer to a write in half: WinCC has
    written, its answer never arrives whole."""

    def read(transport, response):
        raw = real_read(transport, response)
        if response.request.method == "PUT":
            return raw[: len(raw) // 2]
        return raw

    return read


class WriteAnswerLostTestCase(SimulatorSites, BaseTestCase):
    """WinCC had the request but its answer was lost: "unknown", then the value read back."""

    def queued_settlements(self) -> list[str]:
        queues = [key for key in self.redis.keys("*")
                  if not key.startswith(store.PREFIX) and self.redis.type(key) == "list"]
        headers = [json.loads(raw)["headers"] for key in queues
                   for raw in self.redis.lrange(key, 0, -1)]
        return [h["argsrepr"] for h in headers if h.get("task") == SETTLE_WRITE_TASK]

    def test_cut_off_answer_is_settled_at_once_by_reading_back(self):
        from wincc_bridge.transport import Transport

        self.poll("utilities-restv1")
        self.client.force_login(self.writer)
        with mock.patch.object(Transport, "_read_bounded",
                               cut_write_answers(Transport._read_bounded)):
            response = self.client.post(URL, {"site": "utilities-restv1",
                                              "tag": "Tank_InletPump_On", "value": "on"})
        html = response.content.decode()
        assert "Written (WinCC&#x27;s answer was lost; read back from WinCC" in html
        entry = AuditEntry.objects.get()
        assert (entry.result, entry.value_after) == (Result.OK, "on")
        assert entry.completed_at is not None and entry.settled_at is not None
        assert self.sim.value("Tank_InletPump_On") is True
        assert len(self.wincc_writes()) == 1
        assert self.queued_settlements() == []

    def test_malformed_answer_is_unknown_until_wincc_can_be_read(self):
        self.poll("utilities-restv1")
        self.sim.set_faults(malformed_rate=1.0)
        self.client.force_login(self.writer)
        response = self.client.post(URL, {"site": "utilities-restv1",
                                          "tag": "Tank_InletPump_On", "value": "on"})
        assert response.status_code == 200
        html = response.content.decode()
        assert "checking the value in WinCC..." in html
        assert 'class="write-result checking"' in html
        entry = AuditEntry.objects.get()
        assert (entry.result, entry.settled_at) == (Result.UNKNOWN, None)
        assert self.sim.value("Tank_InletPump_On") is True  # it did happen
        assert self.queued_settlements() == [f"['utilities-restv1', {entry.pk}, 1]"]

        self.sim.clear_faults()  # the next poll's read-back
        assert writes.settle(entry.pk, 1) == Result.OK
        entry.refresh_from_db()
        assert (entry.result, entry.value_after) == (Result.OK, "on")
        assert writes.settle(entry.pk, 2) == Result.OK  # a late duplicate changes nothing
        assert len(self.wincc_writes()) == 1

    def test_a_write_that_did_not_happen_settles_as_not_written(self):
        self.poll("oven-unified")
        before = self.sim.value("Oven_Zone3_Setpoint")
        self.sim.set_faults(error_rate=1.0)
        self.client.force_login(self.writer)
        self.client.post(URL, {"site": "oven-unified", "tag": "Oven_Zone3_Setpoint",
                               "value": "230"})
        entry = AuditEntry.objects.get()
        assert entry.result == Result.UNKNOWN  # a 5xx answer: WinCC had the request
        self.sim.clear_faults()
        assert writes.settle(entry.pk, 1) == Result.ERROR
        entry.refresh_from_db()
        assert entry.message.startswith("Not written (WinCC's answer was lost")
        assert entry.value_after == writes.value_text(before)
