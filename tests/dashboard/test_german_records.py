"""The history and record pages in German: the journal, the audit log, the KPIs and the
trend, their exports' header rows, their sentences for a bad From/To, decimal commas and
German dates; with nothing looked up that the catalogue lacks and no English left.

The whole page is compared, the frame and the trend's tiles with it; the records' own words
(alarm names and texts, people's names, audit messages) are allowed as data."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from dashboard import alarm_notes
from dashboard.alarm_notes import Occurrence
from dashboard.models import AlarmComment, AuditEntry, JournalEntry, Shelving
from tests.dashboard.german import ENGLISH, GERMAN, english_left, untranslated
from tests.dashboard.livedata import PlantTestCase, change_site
from tests.dashboard.test_audit import entry as audit_entry
from tests.dashboard.test_journal import T0, lifecycle
from tests.dashboard.test_kpi import RANGE, A, site_a_journal
from tests.dashboard.trenddata import minute_ago, store_minutes

Result = AuditEntry.Result
SPEED = "line-classic:Conveyor_Speed"
# German words that read as English ones, and names.
SAME = {"Text", "Minimum", "Maximum", "Live", "Excel", "WinCC"}


def body(response) -> bytes:
    if not response.streaming:
        return response.content

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(read)()


def recorded_words() -> set[str]:
    """The words of the records these tests wrote (alarm names and texts, people's names,
    audit messages): data, shown as recorded."""
    texts = [*JournalEntry.objects.values_list("alarm_name", "event_text", "acknowledged_by",
                                               "actor"),
             *AuditEntry.objects.values_list("username", "message", "comment", "tag_name"),
             *AlarmComment.objects.values_list("username", "text"),
             *Shelving.objects.values_list("alarm_name", "username", "reason"),
             *User.objects.values_list("username")]
    return {word for row in texts for text in row if text
            for word in re.findall(r"[A-Za-zÄÖÜäöüß]{3,}", text)}


class GermanRecordsTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        change_site("line-classic", archive=False)
        lifecycle(site="line-classic", name="Conveyor_Jam", ack_by="op1")
        lifecycle(site="oven-unified", name="Oven_Zone1_Temp_HH", at=T0 + timedelta(hours=1),
                  ack_by="op2", priority=16)
        alarm_notes.add_comment(self.operator, Occurrence("oven-unified",
                                                          "Oven_Zone1_Temp_HH", 1),
                                "thermocouple replaced")
        site_a_journal()
        now = datetime.now(UTC)
        Shelving.objects.create(site_id=A, alarm_name="Door_Open", username="operator",
                                reason="sensor being replaced", since=now - timedelta(hours=1),
                                until=now + timedelta(hours=1))
        audit_entry(result=Result.DENIED, message='No "permission", sorry.')
        write = AuditEntry.objects.create(
            username="writer", action="write", site_id="oven-unified",
            tag_name="Oven_Zone1_Setpoint", value_before="180.0", value_requested="185.5")
        write.record_result(Result.OK, message="WinCC took it.", value_after="185.5")
        AuditEntry.objects.create(username="admin", action="configure", site_id="oven-unified",
                                  alarm_name="", result=Result.OK)
        store_minutes("line-classic", "Conveyor_Speed",
                      {minute_ago(m): 1.25 for m in range(1, 4)})

    def both(self, user, url: str, status: int = 200) -> tuple[bytes, bytes]:
        """The page in German (every message found in the catalogue) and in English."""
        self.client.force_login(user)
        with untranslated() as missing:
            german = self.client.get(url, **GERMAN)
        assert missing == set(), url
        assert german.status_code == status, url
        assert german["Content-Language"] == "de"
        english = self.client.get(url, **ENGLISH)
        assert english.status_code == status, url
        return body(english), body(german)

    def assert_german(self, user, url: str, status: int = 200) -> str:
        english, german = self.both(user, url, status)
        allowed = SAME | recorded_words()
        assert english_left(english, german, allowed=allowed) == [], url
        return german.decode()

    def test_every_page_reads_german(self):
        pages = [
            (self.viewer, "/journal/"),
            (self.viewer, "/journal/?view=transitions"),
            (self.viewer, "/journal/?text=Conveyor"),
            (self.viewer, "/journal/?view=transitions&text=Conveyor"),
            (self.viewer, "/journal/?priority=high&transition=acknowledged&site=line-classic"),
            (self.auditor, "/audit/"),
            (self.auditor, "/audit/?result=refused"),
            (self.viewer, "/kpi/?" + urlencode({**RANGE, "site": A})),
            (self.viewer, "/kpi/?range=8h"),
            (self.viewer, "/trend/"),
            (self.viewer, f"/trend/?pen={SPEED}&start=now-1h&end=now&compare=1d"),
        ]
        for user, url in pages:
            with self.subTest(url=url):
                self.assert_german(user, url)

    def test_the_journal_in_german_words_and_dates(self):
        html = self.assert_german(self.viewer, "/journal/")
        assert "Alarmjournal" in html
        assert "30.11.2026 22:00:00" in html and "2026-11-30 22:00:00" not in html
        assert 'datetime="2026-11-30T22:00:00+00:00"' in html  # machines keep ISO
        assert "von op1 in WinCC, nach 1 min 30 s" in html
        assert "gegangen" in html and "Dauer 10 min 00 s" in html
        transitions = self.assert_german(self.viewer, "/journal/?view=transitions")
        assert "<td>Gekommen</td>" in transitions and "<td>Quittiert</td>" in transitions

    def test_the_audit_log_names_actions_and_results_in_german(self):
        html = self.assert_german(self.auditor, "/audit/")
        assert '<td data-action="write">schreiben</td>' in html
        assert '<td data-action="configure">konfigurieren</td>' in html
        assert '<td data-action="acknowledge">quittieren</td>' in html
        assert "Verweigert (keine Berechtigung)" in html
        assert "180.0 → 185.5 (schreiben), steht auf 185.5" in html
        assert "3 Einträge" in html
        # The recorded message stays as it was recorded.
        assert "No &quot;permission&quot;, sorry." in html

    def test_kpi_figures_have_a_decimal_comma(self):
        html = self.assert_german(self.viewer, "/kpi/?" + urlencode({**RANGE, "site": A}))
        assert "Alarm-Kennzahlen: Curing oven" in html
        assert "10.11.2026 00:00 \N{EN DASH} 11.11.2026 00:00 UTC" in html
        card = html.split('data-kpi="average"')[1].split("</div>")[0]
        assert "<strong>0,27</strong>" in card
        assert '<td data-ack="p90">76,0 s</td>' in html
        assert ('<tr data-priority="low"><td>niedrig</td><td>34</td>'
                '<td data-share>87,2 %</td>') in html
        # The chart's words ride in data-* attributes, its numbers stay JSON.
        assert 'data-axis="Alarme je 10 min"' in html
        assert 'data-low="niedrig"' in html

    def test_a_bad_from_or_to_is_a_german_sentence(self):
        sentence = ("„gestern“ ist keine Zeitangabe; schreiben Sie sie als 2026-12-01T06:00 "
                    "(UTC), 2026-12-01T06:00+01:00, now oder now-8h (s, min, h, d).")
        for user, url, field in (
            (self.viewer, "/journal/?since=gestern", "Von (UTC)"),
            (self.viewer, "/kpi/?range=custom&start=gestern&end=2026-11-10T00:00",
             "Von (UTC)"),
            (self.viewer, f"/trend/?pen={SPEED}&start=gestern", "Von (UTC)"),
        ):
            with self.subTest(url=url):
                html = self.assert_german(user, url, status=400)
                assert f"{field}: {sentence}" in unescape(html)
        self.client.force_login(self.viewer)
        with untranslated() as missing:
            data = self.client.get(f"/trend/data/?pen={SPEED}&end=morgen", **GERMAN)
            export = self.client.get("/journal.csv?until=morgen", **GERMAN)
        assert missing == set()
        assert data.status_code == 400 and data.json()["detail"].startswith(
            "„morgen“ ist keine Zeitangabe;")
        assert export.status_code == 400
        assert export.content.decode().startswith("Ungültiger Filter: Bis (UTC): „morgen“")

    def test_other_mistakes_read_as_german_sentences(self):
        for user, url, sentence in (
            (self.auditor, "/audit/?since=2026-12-02&until=2026-12-01",
             "Das Anfangsdatum liegt nach dem Enddatum."),
            (self.viewer, "/kpi/?range=custom&start=2026-09-01T00:00&end=2026-11-09T00:00",
             "Der Zeitraum darf höchstens 31 Tage lang sein."),
            (self.viewer, "/journal/?since=2026-12-02&until=2026-12-01",
             "„Von“ liegt nach „Bis“; tauschen Sie die beiden."),
            (self.viewer, "/trend/?pen=nowhere:Nothing",
             "Es gibt keine Kurve 'nowhere:Nothing', die Sie sehen dürfen."),
        ):
            with self.subTest(url=url):
                html = self.assert_german(user, url, status=400)
                assert sentence in unescape(html)

    def test_every_export_has_a_german_header_and_machine_readable_cells(self):
        self.client.force_login(self.viewer)
        with untranslated() as missing:
            occurrences = body(self.client.get("/journal.csv", **GERMAN)).decode()
            transitions = body(self.client.get("/journal.csv?view=transitions",
                                               **GERMAN)).decode()
            workbook = body(self.client.get("/journal.xlsx", **GERMAN))
            start = datetime.fromtimestamp(time.time() - 3600, UTC).isoformat()
            trend = body(self.client.get(
                "/trend/export.csv?" + urlencode({"pen": SPEED, "start": start}),
                **GERMAN)).decode()
        self.client.force_login(self.auditor)
        with untranslated() as audit_missing:
            audit = body(self.client.get("/audit.csv", **GERMAN)).decode()
        assert missing == set() and audit_missing == set()
        # The product's one word for a site, whichever catalogue holds it.
        with translation.override("de"):
            site = gettext("Site")

        header, *rows = list(csv.reader(io.StringIO(occurrences)))
        assert header[:4] == ["Gekommen (UTC+00:00)", site, "Alarm", "Instanz"]
        assert "Kommentartexte (älteste zuerst)" in header
        line = dict(zip(header, rows[1], strict=True))
        assert line["Gekommen (UTC+00:00)"] == "2026-11-30T22:00:00+00:00"
        assert line["Quittiert nach (s)"] == "90"
        assert next(csv.reader(io.StringIO(transitions)))[:3] == [
            "Zeit (UTC+00:00)", "Übergang", site]

        sheet = load_workbook(io.BytesIO(workbook), read_only=True)["Alarmjournal"]
        values = list(sheet.iter_rows(values_only=True))
        assert values[0][:2] == ("Gekommen (UTC+00:00)", site)
        assert values[2][0] == datetime(2026, 11, 30, 22, 0)  # a date-time Excel shows

        trend_header, *trend_rows = list(csv.reader(io.StringIO(trend)))
        assert trend_header == ["Zeit", "Anlage", "Variable", "Beschriftung", "Einheit",
                                "Wert", "Qualität", "Quelle", "Minimum", "Maximum"]
        assert trend_rows and trend_rows[0][5] == "1.25"  # a decimal point, for machines
        assert trend_rows[0][6:8] == ["good", "store"]

        audit_header, *audit_rows = list(csv.reader(io.StringIO(audit)))
        assert audit_header[:3] == ["Zeit (UTC)", "abgeschlossen (UTC)", "Benutzer"]
        assert audit_header[-1] == "über"
        assert {row[audit_header.index("Aktion")] for row in audit_rows} == {
            "acknowledge", "write", "configure"}

    def test_english_stays_as_it_was(self):
        self.client.force_login(self.viewer)
        html = self.client.get("/journal/", **ENGLISH).content.decode()
        assert "2026-11-30 22:00:00" in html and "by op1 in WinCC, after 1 min 30 s" in html
        header = next(csv.reader(io.StringIO(body(self.client.get("/journal.csv",
                                                                  **ENGLISH)).decode())))
        assert header[0] == "Raised (UTC+00:00)"
