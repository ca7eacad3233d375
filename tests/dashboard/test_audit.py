"""The audit log: append-only in the ORM and in the database, /audit/ and /audit.csv."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.utils import ConnectionHandler

from dashboard.models import AppendOnlyError, AuditEntry
from tests.dashboard.base import BaseTestCase
from tests.harness.processes import free_port

Result = AuditEntry.Result


def entry(**fields) -> AuditEntry:
    values = {"username": "operator", "site_id": "oven-unified", "alarm_name": "Oven_Zone1_Temp_HH",
              "instance_id": 1, "state_before": "unacknowledged", "result": Result.PENDING}
    values.update(fields)
    return AuditEntry.objects.create(**values)


def backdate(row: AuditEntry, when: datetime) -> None:
    """Set created_at for a filter test: the triggers allow no such change, so off and on."""
    from tests.dashboard.acksupport import _TRIGGERS

    with connection.cursor() as cursor:
        for sql in _TRIGGERS.UNINSTALL[connection.vendor]:
            cursor.execute(sql)
        cursor.execute("UPDATE dashboard_auditentry SET created_at = %s WHERE id = %s",
                       [when, row.pk])
        for sql in _TRIGGERS.INSTALL[connection.vendor]:
            cursor.execute(sql)


class AppendOnlyTestCase(BaseTestCase):
    def raw(self, sql: str, params=()) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)

    def test_orm_refuses_change_and_delete(self):
        row = entry(result=Result.DENIED)
        row.message = "rewritten"
        with self.assertRaises(AppendOnlyError):
            row.save()
        with self.assertRaises(AppendOnlyError):
            row.delete()
        with self.assertRaises(AppendOnlyError):
            AuditEntry.objects.filter(pk=row.pk).update(message="rewritten")
        with self.assertRaises(AppendOnlyError):
            AuditEntry.objects.all().delete()

    def test_a_pending_row_is_completed_once(self):
        row = entry()
        row.record_result(Result.OK, message="Acknowledged.", state_after="acknowledged")
        stored = AuditEntry.objects.get(pk=row.pk)
        assert (stored.result, stored.state_after) == (Result.OK, "acknowledged")
        assert stored.completed_at is not None
        with self.assertRaises(AppendOnlyError):
            row.record_result(Result.REFUSED)

    def test_database_refuses_raw_update_and_delete(self):
        row = entry(result=Result.DENIED, message="No permission.")
        statements = [
            ("UPDATE dashboard_auditentry SET username = %s WHERE id = %s", ["mallory", row.pk]),
            ("UPDATE dashboard_auditentry SET result = %s WHERE id = %s", [Result.OK, row.pk]),
            ("UPDATE dashboard_auditentry SET message = %s WHERE id = %s", ["", row.pk]),
            ("DELETE FROM dashboard_auditentry WHERE id = %s", [row.pk]),
            ("DELETE FROM dashboard_auditentry", []),
        ]
        for sql, params in statements:
            with self.subTest(sql=sql), self.assertRaises(DatabaseError) as caught:
                self.raw(sql, params)
            assert "append-only" in str(caught.exception)
        stored = AuditEntry.objects.get(pk=row.pk)
        assert (stored.username, stored.result, stored.message) == (
            "operator", Result.DENIED, "No permission.")

    def test_database_allows_completing_a_pending_row_once_only(self):
        row = entry()
        complete = ("UPDATE dashboard_auditentry SET result = %s, message = %s, completed_at = %s "
                    "WHERE id = %s")
        self.raw(complete, [Result.OK, "Acknowledged.", datetime.now(UTC), row.pk])
        with self.assertRaises(DatabaseError):
            self.raw(complete, [Result.REFUSED, "again", datetime.now(UTC), row.pk])
        assert AuditEntry.objects.get(pk=row.pk).result == Result.OK

    def test_an_unknown_row_is_settled_once(self):
        row = entry()
        row.record_result(Result.UNKNOWN, message="WinCC's answer was lost")
        with self.assertRaises(AppendOnlyError):
            row.record_result(Result.OK)
        row.settle(Result.OK, message="Acknowledged (read back).", state_after="acknowledged")
        stored = AuditEntry.objects.get(pk=row.pk)
        assert (stored.result, stored.state_after) == (Result.OK, "acknowledged")
        assert stored.settled_at is not None and stored.completed_at is not None
        with self.assertRaises(AppendOnlyError):
            row.settle(Result.ERROR, message="again", state_after="unacknowledged")
        with self.assertRaises(AppendOnlyError):
            entry().settle(Result.OK, message="", state_after="")  # pending is not unknown

    def test_database_allows_settling_an_unknown_row_once_only(self):
        row = entry()
        self.raw("UPDATE dashboard_auditentry SET result = 'unknown', completed_at = %s "
                 "WHERE id = %s", [datetime.now(UTC), row.pk])
        settle = ("UPDATE dashboard_auditentry SET result = %s, state_after = %s, "
                  "settled_at = %s WHERE id = %s")
        with self.assertRaises(DatabaseError):  # to another unknown is no settlement
            self.raw(settle, [Result.UNKNOWN, "", datetime.now(UTC), row.pk])
        with self.assertRaises(DatabaseError):  # the completion time stays
            self.raw("UPDATE dashboard_auditentry SET result = 'ok', settled_at = %s, "
                     "completed_at = NULL WHERE id = %s", [datetime.now(UTC), row.pk])
        self.raw(settle, [Result.OK, "acknowledged", datetime.now(UTC), row.pk])
        with self.assertRaises(DatabaseError):
            self.raw(settle, [Result.ERROR, "unacknowledged", datetime.now(UTC), row.pk])
        assert AuditEntry.objects.get(pk=row.pk).result == Result.OK

    def test_database_lets_a_summary_count_grow_and_nothing_else(self):
        row = entry(username="(anonymous)", result=Result.DENIED, message="No permission.")
        count = ("UPDATE dashboard_auditentry SET repeat_count = repeat_count + %s, "
                 "last_at = %s WHERE id = %s")
        self.raw(count, [1, datetime.now(UTC), row.pk])
        for change in (0, -1):
            with self.subTest(change=change), self.assertRaises(DatabaseError):
                self.raw(count, [change, datetime.now(UTC), row.pk])
        with self.assertRaises(DatabaseError):  # the count does not carry other changes
            self.raw("UPDATE dashboard_auditentry SET repeat_count = 9, message = '' "
                     "WHERE id = %s", [row.pk])
        assert AuditEntry.count_repeat(row.pk, datetime.now(UTC))
        person = User.objects.create_user("someone")
        # A person's refusal counts the refusals beyond their budget (dashboard.refusals)...
        own = entry(user=person, username="someone", result=Result.DENIED)
        self.raw(count, [1, datetime.now(UTC), own.pk])
        with self.assertRaises(DatabaseError):  # ...and stays theirs
            self.raw("UPDATE dashboard_auditentry SET repeat_count = 5, last_at = %s, "
                     "user_id = NULL WHERE id = %s", [datetime.now(UTC), own.pk])
        done = entry(user=person, username="someone", result=Result.OK)
        with self.assertRaises(DatabaseError):  # an acknowledgement is one row, never counted
            self.raw(count, [1, datetime.now(UTC), done.pk])
        assert AuditEntry.objects.get(pk=row.pk).repeat_count == 3
        assert AuditEntry.objects.get(pk=own.pk).repeat_count == 2

    def test_deleting_a_user_keeps_their_rows_by_name(self):
        person = User.objects.create_user("leaver")
        row = entry(user=person, username="leaver", result=Result.DENIED)
        person.delete()
        stored = AuditEntry.objects.get(pk=row.pk)
        assert (stored.user, stored.username) == (None, "leaver")


class AuditPageTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        entry(result=Result.DENIED, username="viewer", message="No permission.")
        entry(site_id="line-classic", alarm_name="Conveyor_Fault", result=Result.OK,
              comment="belt cleared")
        entry(result=Result.REFUSED, message="WinCC refused: 305")

    def test_anonymous_is_sent_to_sign_in(self):
        response = self.client.get("/audit/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_only_auditors_and_superusers_see_it(self):
        for user in (self.viewer, self.operator, self.outsider):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                assert self.client.get("/audit/").status_code == 403
                assert self.client.get("/audit.csv").status_code == 403
        for user in (self.auditor, self.admin):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                assert self.client.get("/audit/").status_code == 200

    def test_lists_entries_newest_first_in_utc(self):
        self.client.force_login(self.auditor)
        response = self.client.get("/audit/")
        rows = list(response.context["page"])
        assert [r.result for r in rows] == [Result.REFUSED, Result.OK, Result.DENIED]
        html = response.content.decode()
        assert "Time (<span data-zone-name>UTC</span>)" in html  # the browser names its zone
        assert rows[0].created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") in html
        assert "belt cleared" in html

    def test_shows_a_summary_count_and_a_settlement(self):
        flood = entry(username="(anonymous)", result=Result.DENIED, message="No permission.")
        for _ in range(19):
            AuditEntry.count_repeat(flood.pk, datetime.now(UTC))
        lost = entry(alarm_name="Tank_Level_HH")
        lost.record_result(Result.UNKNOWN, message="WinCC's answer was lost")
        lost.settle(Result.OK, message="Acknowledged (read back).", state_after="acknowledged")
        self.client.force_login(self.auditor)
        html = self.client.get("/audit/").content.decode()
        assert 'data-repeats="20"' in html and "20 times from this address" in html
        assert "Settled from WinCC at" in html

    def test_shows_a_write_with_its_values(self):
        write = AuditEntry.objects.create(
            username="writer", action="write", site_id="oven-unified",
            tag_name="Oven_Zone1_Setpoint", value_before="180.0", value_requested="185.5")
        write.record_result(Result.OK, message="WinCC took it.", value_after="185.5")
        self.client.force_login(self.auditor)
        html = self.client.get("/audit/").content.decode()
        assert "<td>Oven_Zone1_Setpoint</td>" in html
        assert "180.0 → 185.5 (write), reads 185.5" in html

    def test_filters(self):
        self.client.force_login(self.auditor)
        cases = {
            "site=line-classic": [Result.OK],
            "user=VIEWER": [Result.DENIED],
            "result=refused": [Result.REFUSED],
            "site=oven-unified&result=ok": [],
        }
        for query, expected in cases.items():
            with self.subTest(query=query):
                page = self.client.get(f"/audit/?{query}").context["page"]
                assert [r.result for r in page] == expected

    def test_date_range_is_utc_and_inclusive(self):
        old = entry(result=Result.ERROR, message="old")
        backdate(old, datetime(2026, 1, 10, 23, 30, tzinfo=UTC))
        self.client.force_login(self.auditor)
        page = self.client.get("/audit/?since=2026-01-10&until=2026-01-10").context["page"]
        assert [r.pk for r in page] == [old.pk]
        page = self.client.get("/audit/?since=2026-01-11").context["page"]
        assert old.pk not in [r.pk for r in page]

    def test_bad_filter_is_answered_plainly(self):
        self.client.force_login(self.auditor)
        response = self.client.get("/audit/?since=yesterday")
        assert response.status_code == 400
        assert "Enter a valid date" in response.content.decode()
        response = self.client.get("/audit/?since=2026-02-02&until=2026-02-01")
        assert response.status_code == 400
        assert "start date is after the end date" in response.content.decode()
        assert self.client.get("/audit.csv?result=maybe").status_code == 400

    def test_paginates(self):
        for n in range(55):
            entry(result=Result.DENIED, instance_id=100 + n)
        self.client.force_login(self.auditor)
        first = self.client.get("/audit/?result=denied").context["page"]
        assert (len(first), first.paginator.count, first.has_next()) == (50, 56, True)
        second = self.client.get("/audit/?result=denied&page=2")
        assert len(second.context["page"]) == 6
        assert "result=denied&amp;page=1" in second.content.decode()


class AuditCsvTestCase(BaseTestCase):
    async def read_csv(self, query: str = "") -> tuple[object, list[list[str]]]:
        response = await self.async_client.get(f"/audit.csv{query}")
        assert response.status_code == 200
        body = b"".join([chunk async for chunk in response.streaming_content])
        return response, list(csv.reader(io.StringIO(body.decode())))

    async def test_exports_the_filtered_rows_streamed(self):
        from asgiref.sync import sync_to_async

        await sync_to_async(entry)(result=Result.DENIED, username="viewer",
                                   message='No "permission", sorry.')
        await sync_to_async(entry)(site_id="line-classic", result=Result.OK,
                                   comment="=HYPERLINK(\"http://example.invalid\")")
        many = [AuditEntry(username="operator", site_id="oven-unified", alarm_name="Tank_Level_LL",
                           instance_id=n, result=Result.ERROR) for n in range(1200)]
        await AuditEntry.objects.abulk_create(many)  # more than one chunk
        await self.async_client.aforce_login(self.auditor)

        response, rows = await self.read_csv("?result=denied")
        assert response.streaming
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        header, *data = rows
        assert header[:3] == ["time (UTC)", "completed (UTC)", "user"]
        assert len(data) == 1
        assert data[0][2] == "viewer"
        assert data[0][header.index("message")] == 'No "permission", sorry.'
        assert data[0][0].endswith("Z")

        _, rows = await self.read_csv("?result=ok")
        comment = rows[1][header.index("comment")]
        assert comment == "'=HYPERLINK(\"http://example.invalid\")"  # text, not a formula

        _, rows = await self.read_csv()
        assert len(rows) == 1 + 1202
        instances = [int(r[7]) for r in rows[1:] if r[11] == "error"]
        assert instances == sorted(instances, reverse=True)  # newest first, none twice
        assert len(set(instances)) == 1200

    async def test_via_is_the_last_column_dashboard_or_wincc(self):
        from asgiref.sync import sync_to_async

        await sync_to_async(entry)(result=Result.OK, message="Acknowledged.")
        await sync_to_async(entry)(alarm_name="Tank_Level_LL", result=Result.DUPLICATE,
                                   message="Already acknowledged by hmi-user in WinCC.")
        await self.async_client.aforce_login(self.auditor)
        _, (header, *data) = await self.read_csv()
        # The earlier columns keep their positions; "via" comes after them all.
        assert header[:3] == ["time (UTC)", "completed (UTC)", "user"]
        assert header[-2:] == ["value read back", "via"]
        assert {row[header.index("alarm")]: row[-1] for row in data} == {
            "Oven_Zone1_Temp_HH": "dashboard", "Tank_Level_LL": "WinCC"}

    async def test_a_write_exports_its_tag_and_values(self):
        from asgiref.sync import sync_to_async

        await sync_to_async(AuditEntry.objects.create)(
            username="writer", action="write", site_id="oven-unified", result=Result.ERROR,
            tag_name="Oven_Zone1_Setpoint", value_before="180.0", value_requested="-5",
            message="Out of range.")
        await self.async_client.aforce_login(self.auditor)
        _, (header, row) = await self.read_csv()
        written = {column: row[header.index(column)] for column in (
            "action", "tag", "value before", "value written", "value read back")}
        assert written == {"action": "write", "tag": "Oven_Zone1_Setpoint",
                           "value before": "180.0", "value written": "'-5",
                           "value read back": ""}


def _postgresql_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


@pytest.fixture
def private_postgresql(django_db_blocker):
    """A throwaway PostgreSQL cluster on a Unix socket in a temporary folder (the machine's own
    server and data are never touched); stopped and deleted after the test."""
    bin_dir = _postgresql_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL's server programs (initdb) are not installed")
    folder = Path(tempfile.mkdtemp(prefix="wdash-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        shutil.chown(folder, "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", str(free_port())
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "timeout": 60}
    handler = ConnectionHandler({
        "default": {"ENGINE": "django.db.backends.dummy"},
        "audit_pg": {"ENGINE": "django.db.backends.postgresql", "NAME": "postgres",
                     "USER": "postgres", "HOST": str(folder), "PORT": port},
    })
    try:
        subprocess.run([*as_owner, bin_dir / "initdb", "-D", data, "-A", "trust", "-U",
                        "postgres", "--no-sync", "-E", "UTF8"], check=True, **quiet)
        # The server writes to its own log file: pipes would keep pg_ctl's caller waiting.
        options = f"-p {port} -k {folder} -c listen_addresses='' -c fsync=off"
        subprocess.run([*as_owner, bin_dir / "pg_ctl", "-D", data, "-l", folder / "server.log",
                        "-o", options, "-w", "start"], check=True, **quiet)
        with django_db_blocker.unblock():  # this server only; the test database stays closed
            yield handler["audit_pg"]
    finally:
        try:
            handler["audit_pg"].close()
        finally:
            if (data / "postmaster.pid").exists():
                subprocess.run([*as_owner, bin_dir / "pg_ctl", "-D", data, "-m", "immediate",
                                "stop"], **quiet)
            shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.process
def test_postgresql_triggers_refuse_update_and_delete(private_postgresql):
    from tests.dashboard.acksupport import _TRIGGERS

    pg = private_postgresql
    with pg.schema_editor(atomic=False) as editor:
        for model in (ContentType, Permission, Group, User, AuditEntry):
            editor.create_model(model)
        _TRIGGERS.run(_TRIGGERS.INSTALL)(None, editor)
    with pg.cursor() as cursor:
        cursor.execute("INSERT INTO auth_user (password, is_superuser, username, first_name, "
                       "last_name, email, is_staff, is_active, date_joined) VALUES "
                       "('', false, 'leaver', '', '', '', false, true, now()) RETURNING id")
        user_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO dashboard_auditentry (created_at, user_id, username, action, remote_addr,"
            " device, site_id, alarm_name, instance_id, state_before, state_after, result, "
            "message, comment, repeat_count, tag_name, value_before, value_requested, "
            "value_after) VALUES (now(), %s, 'leaver', 'acknowledge', "
            "'10.0.0.1', '', 'oven-unified', 'Oven_Zone1_Temp_HH', 1, 'unacknowledged', '', "
            "'pending', '', '', 1, '', '', '', '') RETURNING id", [user_id])
        row = cursor.fetchone()[0]

        refused = [
            ("UPDATE dashboard_auditentry SET username = 'mallory' WHERE id = %s", [row]),
            ("UPDATE dashboard_auditentry SET result = 'ok' WHERE id = %s", [row]),
            ("UPDATE dashboard_auditentry SET value_requested = '999' WHERE id = %s", [row]),
            ("DELETE FROM dashboard_auditentry WHERE id = %s", [row]),
        ]
        for sql, params in refused:
            with pytest.raises(DatabaseError, match="append-only"):
                cursor.execute(sql, params)

        complete = ("UPDATE dashboard_auditentry SET result = %s, message = 'done', "
                    "completed_at = now() WHERE id = %s")
        cursor.execute(complete, ["unknown", row])
        with pytest.raises(DatabaseError, match="append-only"):
            cursor.execute(complete, ["refused", row])
        settle = "UPDATE dashboard_auditentry SET result = %s, settled_at = now() WHERE id = %s"
        cursor.execute(settle, ["ok", row])
        with pytest.raises(DatabaseError, match="append-only"):
            cursor.execute(settle, ["error", row])
        count = ("UPDATE dashboard_auditentry SET repeat_count = repeat_count + 1, "
                 "last_at = now() WHERE id = %s")
        with pytest.raises(DatabaseError, match="append-only"):  # a person's row
            cursor.execute(count, [row])

        cursor.execute("UPDATE dashboard_auditentry SET user_id = NULL WHERE id = %s", [row])
        cursor.execute("SELECT username, user_id, result FROM dashboard_auditentry")
        assert cursor.fetchall() == [("leaver", None, "ok")]
        with pytest.raises(DatabaseError, match="append-only"):  # still the leaver's own row
            cursor.execute(count, [row])
