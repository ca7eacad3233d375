"""/journal.csv and /journal.xlsx: the page's filtered rows, comments included, UTC with its
offset, the sites the person may see and no other; the workbook opened with openpyxl."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from openpyxl import load_workbook

from dashboard import alarm_notes
from dashboard.alarm_notes import Occurrence
from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import BaseTestCase, site_viewer
from tests.dashboard.test_journal import T0, entry, lifecycle, write


def body(response) -> bytes:
    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(read)()


class JournalExportTestCase(SitesConfigured, BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.oven_viewer = site_viewer("oven-unified", "oven_viewer")

    def setUp(self):
        super().setUp()
        lifecycle(site="line-classic", name="Conveyor_Jam", ack_by="op1")
        lifecycle(site="oven-unified", name="Oven_Zone1_Temp_HH", at=T0 + timedelta(hours=1),
                  ack_by="op2", priority=16, event_text="=cmd|' /C calc'!A0")
        occ = Occurrence("oven-unified", "Oven_Zone1_Temp_HH", 1)
        alarm_notes.add_comment(self.operator, occ, "thermocouple replaced")
        alarm_notes.add_comment(self.operator, occ, "back in range")

    def csv_rows(self, query: str = "") -> list[dict[str, str]]:
        response = self.client.get(f"/journal.csv?{query}")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment; filename=\"alarm-journal-" in response["Content-Disposition"]
        return list(csv.DictReader(io.StringIO(body(response).decode())))

    def xlsx_rows(self, query: str = "") -> list[dict]:
        response = self.client.get(f"/journal.xlsx?{query}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        data = body(response)
        assert int(response["Content-Length"]) == len(data)
        sheet = load_workbook(io.BytesIO(data), read_only=True)["Alarm journal"]
        values = list(sheet.iter_rows(values_only=True))
        return [dict(zip(values[0], row, strict=True)) for row in values[1:]]

    def test_csv_of_occurrences(self):
        self.client.force_login(self.viewer)
        rows = self.csv_rows()
        assert [r["Alarm"] for r in rows] == ["Oven_Zone1_Temp_HH", "Conveyor_Jam"]
        oven, line = rows
        assert line["Raised (UTC+00:00)"] == "2026-11-30T22:00:00+00:00"
        assert line["Acknowledged (UTC+00:00)"] == "2026-11-30T22:01:30+00:00"
        assert (line["Acknowledged by"], line["Acknowledged via"],
                line["Acknowledged after (s)"], line["Duration (s)"]) == ("op1", "WinCC", "90",
                                                                          "600")
        assert line["Transitions"] == "raised acknowledged returned"
        assert oven["Comments"] == "2"
        texts = oven["Comment texts (oldest first)"]
        assert "operator: thermocouple replaced" in texts and texts.index(
            "thermocouple") < texts.index("back in range")
        # A cell a spreadsheet would run is written as text.
        assert oven["Alarm text"] == "'=cmd|' /C calc'!A0"

    def test_csv_of_transitions_follows_the_filter(self):
        self.client.force_login(self.viewer)
        rows = self.csv_rows("view=transitions&site=oven-unified")
        assert [r["Transition"] for r in rows] == [
            "Commented", "Commented", "Returned to normal", "Acknowledged", "Raised"]
        assert rows[0]["Comment"] == "back in range" and rows[0]["Done here by"] == "operator"
        assert rows[3]["Acknowledged in WinCC by"] == "op2"
        assert {r["Site"] for r in rows} == {"oven-unified"}

    def test_csv_and_page_agree_on_the_filter(self):
        self.client.force_login(self.viewer)
        assert [r["Alarm"] for r in self.csv_rows("user=op1")] == ["Conveyor_Jam"]
        assert [r["Alarm"] for r in self.csv_rows("priority=highest")] == [
            "Oven_Zone1_Temp_HH"]
        assert self.csv_rows("text=nothing-like-this") == []

    def test_xlsx_of_occurrences_opens_with_openpyxl(self):
        self.client.force_login(self.viewer)
        rows = self.xlsx_rows()
        assert [r["Alarm"] for r in rows] == ["Oven_Zone1_Temp_HH", "Conveyor_Jam"]
        oven, line = rows
        assert line["Raised (UTC+00:00)"] == datetime(2026, 11, 30, 22, 0)
        assert line["Returned (UTC+00:00)"] == datetime(2026, 11, 30, 22, 10)
        assert (line["Acknowledged by"], line["Acknowledged after (s)"]) == ("op1", 90)
        assert oven["Priority"] == 16 and oven["Priority band"] == "highest"
        assert oven["Comments"] == 2 and "back in range" in oven["Comment texts (oldest first)"]
        assert oven["Alarm text"] == "'=cmd|' /C calc'!A0"

    def test_xlsx_of_transitions(self):
        self.client.force_login(self.viewer)
        rows = self.xlsx_rows("view=transitions&user=op1")
        assert [(r["Transition"], r["Alarm"]) for r in rows] == [
            ("Acknowledged", "Conveyor_Jam")]

    def test_a_viewer_of_one_site_exports_no_row_of_another(self):
        self.client.force_login(self.oven_viewer)
        for query in ("", "view=transitions"):
            assert {r["Site"] for r in self.csv_rows(query)} == {"oven-unified"}, query
            assert {r["Site"] for r in self.xlsx_rows(query)} == {"oven-unified"}, query
        for export in ("/journal.csv", "/journal.xlsx"):
            response = self.client.get(f"{export}?site=line-classic")
            assert response.status_code == 400
            assert "There is no site “line-classic” you may see." in response.content.decode()

    def test_nobody_without_a_site_exports_anything(self):
        self.client.force_login(self.outsider)
        for export in ("/journal.csv", "/journal.xlsx"):
            assert self.client.get(export).status_code == 403
        self.client.logout()
        for export in ("/journal.csv", "/journal.xlsx"):
            assert self.client.get(export).status_code == 302

    def test_a_large_export_comes_in_chunks(self):
        write(*[entry(name=f"Bulk_{i:04d}", at=T0 - timedelta(minutes=i)) for i in range(2500)])
        self.client.force_login(self.viewer)
        response = self.client.get("/journal.csv")

        async def count_parts() -> tuple[int, int]:
            parts = lines = 0
            async for chunk in response.streaming_content:
                parts += 1
                lines += chunk.count(b"\n")
            return parts, lines

        parts, lines = async_to_sync(count_parts)()
        assert lines == 1 + 2 + 2500 and parts == lines
        assert len(self.xlsx_rows()) == 2502
