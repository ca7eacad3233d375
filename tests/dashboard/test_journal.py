"""/journal/: one line per alarm occurrence (or every transition), its filters, keyset pages
stable under inserts, the sites a person may see, every bad parameter a sentence."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import TransactionTestCase
from django.utils import timezone

from dashboard import alarm_notes, occurrences
from dashboard.alarm_notes import Occurrence
from dashboard.journal import persist_journal
from dashboard.models import AlarmOccurrence, AuditEntry, JournalEntry
from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import BaseTestCase, site_viewer
from tests.dashboard.migrationfill import before_migration
from tests.poller.test_journal_consumer import run_plant
from wincc_bridge.models import AlarmState

T0 = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
Transition = JournalEntry.Transition


def entry(site="line-classic", name="Conveyor_Jam", instance=1, transition="raised",
          at=T0, **fields) -> JournalEntry:
    values = {"priority": 8, "event_text": "Conveyor 2 jammed", "state": "unacknowledged"}
    values.update(fields)
    return JournalEntry(key=f"{site}|{name}|{instance}|{transition}|{at.isoformat()}",
                        site_id=site, alarm_name=name, instance_id=instance,
                        transition=transition, at=at, **values)


def write(*rows: JournalEntry) -> None:
    """As the journal consumer writes them: rows and occurrences in one transaction."""
    occurrences.insert(list(rows))


def lifecycle(site="line-classic", name="Conveyor_Jam", instance=1, at=T0, ack_by="op1",
              **fields) -> None:
    """Raised, acknowledged 90 s later, returned 10 min after the raise."""
    write(entry(site, name, instance, "raised", at, **fields),
          entry(site, name, instance, "acknowledged", at + timedelta(seconds=90),
                acknowledged_by=ack_by, **fields),
          entry(site, name, instance, "returned", at + timedelta(minutes=10), **fields))


def cursors(html: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="\?([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def lines(html: str) -> list[str]:
    return re.findall(r'data-occurrence="([^"]+)"', html)


class OccurrenceSummaryTestCase(SitesConfigured, BaseTestCase):
    """The occurrence row follows its entries, whichever way they are written."""

    def test_a_lifecycle_becomes_one_occurrence(self):
        lifecycle()
        occ = AlarmOccurrence.objects.get()
        assert (occ.raised_at, occ.acknowledged_at, occ.returned_at) == (
            T0, T0 + timedelta(seconds=90), T0 + timedelta(minutes=10))
        assert (occ.acknowledged_by, occ.acknowledged_via) == ("op1", "WinCC")
        assert occ.transitions == " raised acknowledged returned "
        assert (occ.priority, occ.event_text, occ.last_transition) == (
            8, "Conveyor 2 jammed", "returned")

    def test_a_replayed_entry_changes_nothing(self):
        lifecycle()
        before = AlarmOccurrence.objects.values().get()
        occurrences.insert([entry(transition="acknowledged", at=T0 + timedelta(seconds=90),
                                  acknowledged_by="op1")])
        assert AlarmOccurrence.objects.values().get() == before
        assert JournalEntry.objects.count() == 3

    def test_acknowledged_through_the_dashboard_names_the_person(self):
        now = timezone.now()
        write(entry(at=now - timedelta(seconds=30)))
        AuditEntry.objects.create(username="operator", site_id="line-classic",
                                  alarm_name="Conveyor_Jam", instance_id=1,
                                  result=AuditEntry.Result.OK)
        # WinCC names the site's read-write API user: the dashboard did it, for "operator".
        write(entry(transition="acknowledged", at=now, acknowledged_by="dashboard-operator"))
        occ = AlarmOccurrence.objects.get()
        assert (occ.acknowledged_by, occ.acknowledged_via) == ("operator", "dashboard")

    def test_comments_count_and_the_newest_shows(self):
        write(entry())
        occ = Occurrence("line-classic", "Conveyor_Jam", 1)
        alarm_notes.add_comment(self.operator, occ, "belt cleaned")
        alarm_notes.add_comment(self.operator, occ, "sensor realigned")
        row = AlarmOccurrence.objects.get()
        assert (row.comment_count, row.newest_comment, row.newest_comment_by) == (
            2, "sensor realigned", "operator")

    def test_rebuild_gives_the_same_rows(self):
        lifecycle()
        lifecycle(name="Oil_Low", ack_by="")
        before = sorted(AlarmOccurrence.objects.values_list(
            "site_id", "alarm_name", "raised_at", "acknowledged_at", "returned_at",
            "transitions"))
        out = io.StringIO()
        call_command("rebuild_occurrences", stdout=out)
        assert out.getvalue() == "2 occurrence(s) built from the journal.\n"
        assert sorted(AlarmOccurrence.objects.values_list(
            "site_id", "alarm_name", "raised_at", "acknowledged_at", "returned_at",
            "transitions")) == before


@pytest.mark.django_db
def test_the_journal_consumer_keeps_the_occurrence(redis_client):
    run_plant(redis_client, [AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED, None])
    assert persist_journal(redis_client) == 3
    occ = AlarmOccurrence.objects.get()
    assert (occ.site_id, occ.alarm_name, occ.acknowledged_by, occ.acknowledged_via) == (
        "plant-a", "Pump_Fault", "op1", "WinCC")
    assert occ.transitions == " raised acknowledged returned "
    assert occ.acknowledged_at - occ.raised_at == timedelta(seconds=2)


class JournalPageTestCase(SitesConfigured, BaseTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.viewer)

    def get(self, query: str = ""):
        return self.client.get(f"/journal/?{query}")

    def test_one_line_per_occurrence_with_its_lifecycle(self):
        lifecycle()
        response = self.get()
        assert response.status_code == 200
        html = response.content.decode()
        assert lines(html) == ["line-classic:Conveyor_Jam#1"]
        assert "2026-11-30 22:00:00" in html
        assert "by op1 in WinCC, after 1 min 30 s" in html
        assert "lasted 10 min 00 s" in html
        assert "/alarms/occurrence/?site=line-classic&amp;name=Conveyor_Jam&amp;instance=1" \
            in html
        assert 'href="/journal/"' in html and "Journal</a>" in html  # the nav link

    def test_the_transitions_view_lists_every_step(self):
        lifecycle()
        html = self.get("view=transitions").content.decode()
        assert re.findall(r'data-transition="(\w+)"', html) == [
            "returned", "acknowledged", "raised"]
        assert "One line per occurrence" in html

    def test_comments_show_with_the_count(self):
        write(entry())
        alarm_notes.add_comment(self.operator, Occurrence("line-classic", "Conveyor_Jam", 1),
                                "belt cleaned")
        html = self.get().content.decode()
        assert "1: <span class=\"comment-by\">operator</span> “belt cleaned”" in html

    def test_filters(self):
        lifecycle(name="Conveyor_Jam", ack_by="op1")
        lifecycle(site="oven-unified", name="Oven_Zone1_Temp_HH", at=T0 + timedelta(hours=1),
                  ack_by="op2", priority=16, event_text="Zone 1 over temperature")
        write(entry(site="oven-unified", name="Door_Open", at=T0 + timedelta(hours=2),
                    priority=2, event_text="Oven door open"))
        cases = {
            "": ["Door_Open", "Oven_Zone1_Temp_HH", "Conveyor_Jam"],
            "site=oven-unified": ["Door_Open", "Oven_Zone1_Temp_HH"],
            "priority=highest": ["Oven_Zone1_Temp_HH"],
            "priority=low": ["Door_Open"],
            "user=op1": ["Conveyor_Jam"],
            "text=temperature": ["Oven_Zone1_Temp_HH"],
            "text=door": ["Door_Open"],
            "transition=acknowledged": ["Oven_Zone1_Temp_HH", "Conveyor_Jam"],
            "since=2026-11-30T22:30&until=2026-11-30T23:30": ["Oven_Zone1_Temp_HH"],
            "since=2026-11-30+23:59": ["Door_Open"],
        }
        for query, expected in cases.items():
            html = self.get(query).content.decode()
            assert [line.split(":")[1].split("#")[0] for line in lines(html)] == expected, query

    def test_user_filter_in_the_transitions_view_finds_who_did_it(self):
        lifecycle(ack_by="op1")
        lifecycle(name="Oil_Low", ack_by="op2")
        html = self.get("view=transitions&user=op2").content.decode()
        assert re.findall(r'data-transition="(\w+)"', html) == ["acknowledged"]
        assert "Oil_Low" in html and "Conveyor_Jam" not in html

    def test_keyset_pages_are_stable_under_inserts(self):
        for i in range(120):
            write(entry(name=f"Alarm_{i:03d}", at=T0 + timedelta(minutes=i)))
        first = self.get().content.decode()
        page1 = lines(first)
        assert len(page1) == 50 and page1[0].endswith("Alarm_119#1")
        # New alarms arrive while the person reads the first page.
        for i in range(120, 130):
            write(entry(name=f"Alarm_{i:03d}", at=T0 + timedelta(minutes=i)))
        second = self.get(cursors(first, "next")).content.decode()
        page2 = lines(second)
        assert page2[0].endswith("Alarm_069#1") and page2[-1].endswith("Alarm_020#1")
        third = self.get(cursors(second, "next")).content.decode()
        page3 = lines(third)
        assert len(page3) == 20 and cursors(third, "next") is None
        assert len(set(page1 + page2 + page3)) == 120
        # Back from the third page: the second again, then the first as it was read.
        back = self.get(cursors(third, "prev")).content.decode()
        assert lines(back) == page2
        first_again = self.get(cursors(back, "prev")).content.decode()
        assert lines(first_again) == page1
        # The first page's newer rows are found by going back once more.
        newest = self.get(cursors(first_again, "prev")).content.decode()
        assert len(lines(newest)) == 10 and cursors(newest, "prev") is None

    def test_equal_times_are_paged_by_id_without_loss(self):
        for i in range(75):
            write(entry(name=f"Same_{i:03d}", at=T0))
        first = self.get().content.decode()
        second = self.get(cursors(first, "next")).content.decode()
        assert len(set(lines(first)) | set(lines(second))) == 75

    def test_bad_parameters_are_sentences(self):
        cases = {
            "since=yesterday": "From (UTC): “yesterday” is not a time;",
            "until=2026-13-01": "To (UTC): “2026-13-01” is not a time;",
            "since=2026-12-01&until=2026-11-01": "“From” is after “To”",
            "site=nowhere": "There is no site “nowhere” you may see.",
            "priority=urgent": "“urgent” is not a priority",
            "transition=exploded": "“exploded” is not a transition",
            "view=everything": "Choose the occurrences or the transitions view.",
            "after=12abc": "The page link is damaged",
            "before=1.2&after=1.2": "The page link is damaged",
            "after=999999999999999999.1": "The page link is damaged",
            "text=" + "x" * 201: "Search for at most 200 characters.",
            "user=" + "u" * 151: "A user name has at most 150 characters.",
            "since=1990-01-01T00:00&until=2026-01-01T00:00": "at most ten years",
            "since=0001-01-01T00:00": "From (UTC): “0001-01-01T00:00” is outside the years",
            "since=%00": "NUL character",
        }
        for query, sentence in cases.items():
            response = self.get(query)
            assert response.status_code == 400, query
            assert sentence in response.content.decode(), query
            for export in ("/journal.csv", "/journal.xlsx"):
                response = self.client.get(f"{export}?{query}")
                assert response.status_code == 400, (export, query)
                assert sentence in response.content.decode(), (export, query)

    def test_extreme_but_valid_cursors_are_pages_not_errors(self):
        lifecycle()
        for cursor in ("after=0.0", "after=-99999999999999999.1", "before=0.0",
                       "after=253402300799000000.1", "after=99999999999999999.1"):
            response = self.get(cursor)
            assert response.status_code in (200, 400), cursor
            if response.status_code == 400:
                assert "page link is damaged" in response.content.decode()


class JournalPermissionTestCase(SitesConfigured, BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.oven_viewer = site_viewer("oven-unified", "oven_viewer")

    def setUp(self):
        super().setUp()
        lifecycle(site="line-classic", name="Conveyor_Jam")
        lifecycle(site="oven-unified", name="Oven_Zone1_Temp_HH", at=T0 + timedelta(hours=1))

    def test_a_viewer_of_one_site_sees_only_that_site(self):
        self.client.force_login(self.oven_viewer)
        for view in ("occurrences", "transitions"):
            html = self.client.get(f"/journal/?view={view}").content.decode()
            assert "Oven_Zone1_Temp_HH" in html and "Conveyor_Jam" not in html, view
        response = self.client.get("/journal/?site=line-classic")
        assert response.status_code == 400
        assert "There is no site “line-classic” you may see." in response.content.decode()
        assert 'value="line-classic"' not in response.content.decode()

    def test_nobody_without_a_site_and_nobody_signed_out(self):
        self.client.force_login(self.outsider)
        assert self.client.get("/journal/").status_code == 403
        self.client.logout()
        response = self.client.get("/journal/")
        assert response.status_code == 302 and "/login" in response["Location"]


class OccurrenceMigrationTestCase(TransactionTestCase):
    """The migration that adds the occurrence lines fills them from the journal so far."""

    def test_the_migration_fills_occurrences_from_existing_entries(self):
        with before_migration("_alarm_occurrences") as fill:
            entries = fill.before.get_model("dashboard", "JournalEntry")
            for step, seconds, by in (("raised", 0, ""), ("acknowledged", 40, "op3"),
                                      ("returned", 300, "")):
                entries.objects.create(
                    key=f"line-classic|Oil_Low|4|{step}", site_id="line-classic",
                    alarm_name="Oil_Low", instance_id=4, transition=step,
                    at=T0 + timedelta(seconds=seconds), state="", priority=9,
                    event_text="Oil level low", acknowledged_by=by)
            new = fill.migrate()
            occ = new.get_model("dashboard", "AlarmOccurrence").objects.get()
            assert (occ.alarm_name, occ.raised_at, occ.acknowledged_by, occ.returned_at,
                    occ.event_text) == ("Oil_Low", T0, "op3", T0 + timedelta(seconds=300),
                                        "Oil level low")
