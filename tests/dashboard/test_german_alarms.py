"""Alarms and actions in German: the occurrence page, the acknowledge, shelve, comment and
write answers and their refusals read in German, while the audit row keeps the English
sentence (docs/languages.md, "Alarms and actions")."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

from dashboard.models import AuditEntry, JournalEntry, Shelving
from dashboard.step_messages import Moment, Number, StepMessage
from dashboard.templatetags.plant_words import STATES
from tests.dashboard.acksupport import SimulatorSites, SitesConfigured
from tests.dashboard.base import BaseTestCase
from tests.dashboard.german import ENGLISH, GERMAN, english_left, untranslated
from tests.dashboard.test_write_tag import URL as WRITE_URL
from tests.dashboard.test_write_tag import WriteSites
from wincc_bridge.models import AlarmState
from wincc_ingest import store

Result = AuditEntry.Result
PAGE = "/alarms/occurrence/?site=oven-unified&name=Oven_Zone1_Temp_HH&instance=1"

# The files of this part: a message they ask for must be in the German catalogue. (Around
# them the page has the frame, the live row and the journal's names, each from its own part.)
OURS = [
    "dashboard/acknowledge.py", "dashboard/shelving.py", "dashboard/alarm_notes.py",
    "dashboard/alarm_history.py", "dashboard/writes.py", "dashboard/step_messages.py",
    "dashboard/views/actions.py", "dashboard/views/alarm.py", "dashboard/views/writes.py",
    "templates/pages/alarm.html", "templates/partials/ack_all_result.html",
    "templates/partials/alarm_history.html", "templates/partials/alarm_note.html",
    "templates/partials/occurrence_live.html", "templates/partials/write_dialog.html",
    "templates/partials/write_form.html",
]
_SOURCE = "\n".join((Path(settings.BASE_DIR) / name).read_text(encoding="utf-8")
                    for name in OURS)
# The journal's and the shelvings' own names (dashboard.models) shown in the history.
NAMES = {word for label in [*JournalEntry.Transition.labels, *Shelving.End.labels]
         for word in str(label).split()}

# The shelving times' units, written alike in both languages (15 min, 2 h).
UNITS = {"min"}


def ours(missing: set[str]) -> set[str]:
    """The missing messages that these files ask for."""
    def asked(message: str) -> bool:
        text = message.split("|")[-1]
        template = re.sub(r"%\((\w+)\)s", r"{{ \1 }}", text)
        return text in _SOURCE or template in _SOURCE
    return {message for message in missing if asked(message)}


def steps_part(html: str) -> str:
    """The occurrence page's own sections (acknowledge, shelving, comments, history)."""
    start = html.index('<section class="alarm-step')
    return html[start:html.rindex("</section>") + len("</section>")]


def text(response) -> str:
    return response.content.decode()


class StepMessageTestCase(BaseTestCase):
    def test_one_sentence_recorded_in_english_and_read_in_german(self):
        said = StepMessage(translation.gettext_lazy(
            "Shelved in WinCC for %(minutes)s min."), minutes=15)
        with translation.override("de"):
            assert str(said) == "In WinCC für 15 min zurückgestellt."
            assert said.english == "Shelved in WinCC for 15 min."
            assert str(Number("63.5")) == "63,5"
        assert str(Number("63.5")) == "63.5"

    def test_a_moment_is_written_as_each_language_writes_it(self):
        from datetime import UTC, datetime

        at = Moment(datetime(2026, 12, 3, 18, 5, tzinfo=UTC), "%Y-%m-%d %H:%M", "d.m.Y H:i")
        assert str(at) == "2026-12-03 18:05"
        with translation.override("de"):
            assert str(at) == "03.12.2026 18:05"

    def test_the_state_words_are_the_states_labels_in_english(self):
        with translation.override("en"):
            assert {state: str(word) for state, word in STATES.items()} == {
                state: state.label for state in AlarmState}


class OccurrencePageGermanTestCase(SitesConfigured, BaseTestCase):
    def setUp(self):
        super().setUp()
        self.alarm = self.seed_alarm(priority=12)
        self.client.force_login(self.operator)

    def both(self, url):
        with untranslated() as missing:
            german = self.client.get(url, **GERMAN)
        english = self.client.get(url, **ENGLISH)
        assert german.status_code == english.status_code
        return english, german, ours(missing)

    def test_the_page_with_its_forms(self):
        english, german, missing = self.both(PAGE)
        assert missing == set()
        assert english_left(steps_part(text(english)), steps_part(text(german)), UNITS) == []
        html = text(german)
        for words in ("Quittieren", "Zurückstellen", "Kommentar hinzufügen", "Verlauf",
                      "Höchstens 480 Minuten.", "← Alarme von Test oven-unified",
                      "WinCC stellt ihn ebenfalls zurück"):
            assert words in html, words

    def test_shelved_commented_with_history(self):
        # The classic site shelves here (nothing listens at the test sites' address).
        here = self.seed_alarm(site="line-classic", name="Tank_Level_LL")
        fields = {"site": here.site, "name": here.name, "instance": "1"}
        shelved = self.client.post("/alarms/shelve/", {
            **fields, "minutes": "15", "reason": "Sensor wird getauscht"}, **GERMAN)
        assert shelved.status_code == 303
        commented = self.client.post("/alarms/comment/", {**fields, "text": "Ventil geprüft"},
                                     **GERMAN)
        assert commented.status_code == 303
        page = "/alarms/occurrence/?site=line-classic&name=Tank_Level_LL&instance=1"
        english, german, missing = self.both(page)
        assert missing == set()
        allowed = NAMES | UNITS | {"Sensor", "wird", "getauscht", "Ventil", "geprüft"}
        assert english_left(steps_part(text(english)), steps_part(text(german)),
                            allowed) == []
        # The date as German writes it, the shelving's words in German.
        running = Shelving.objects.get()
        assert f"seit {running.since:%d.%m.%Y %H:%M}" in text(german)
        assert "Zurückgestellt von <b>operator</b>" in text(german)
        english, german, missing = self.both(page.replace("occurrence/", "occurrence/history/"))
        assert missing == set()
        assert english_left(english.content, german.content, allowed) == []

    def test_the_flash_is_german_and_the_audit_row_english(self):
        response = self.client.post("/alarms/shelve/", {
            "site": "oven-unified", "name": self.alarm.name, "instance": "1",
            "minutes": "15", "reason": "Sensor wird getauscht"}, follow=True, **GERMAN)
        assert "In WinCC für 15 min zurückgestellt" not in text(response)  # nothing listens
        # The test sites' server shelves (Unified) but nothing listens: WinCC unreachable.
        assert response.status_code == 409
        assert text(response).startswith("WinCC war nicht erreichbar: ")
        entry = AuditEntry.objects.get(action="shelve")
        assert entry.message.startswith("WinCC could not be reached: ")

        here = self.seed_alarm(site="line-classic", name="Tank_Level_LL")
        response = self.client.post("/alarms/shelve/", {
            "site": here.site, "name": here.name, "instance": "1", "minutes": "15",
            "reason": "Sensor wird getauscht"}, follow=True, **GERMAN)
        assert response.status_code == 200
        assert "Hier für 15 min zurückgestellt; in WinCC weiterhin aktiv." in text(response)
        entry = AuditEntry.objects.filter(action="shelve").latest("id")
        assert entry.result == Result.OK
        assert entry.message.startswith("Shelved here for 15 min; still active in WinCC. Until ")

        response = self.client.post("/alarms/comment/", {
            "site": "oven-unified", "name": self.alarm.name, "instance": "1",
            "text": "Ventil geprüft"}, follow=True, **GERMAN)
        assert "Kommentar hinzugefügt." in text(response)
        assert AuditEntry.objects.get(action="comment").message == "Comment added."

    def test_refusals_are_german_and_recorded_in_english(self):
        def post(url, status, german, english, **data):
            fields = {"site": "oven-unified", "name": self.alarm.name, "instance": "1", **data}
            with untranslated() as missing:
                response = self.client.post(url, fields, **GERMAN)
            assert ours(missing) == set()
            assert response.status_code == status, response.content
            assert text(response) == german
            assert AuditEntry.objects.latest("id").message == english

        post("/alarms/shelve/", 400, "Geben Sie einen Grund für das Zurückstellen an.",
             "Refused: Give a reason for shelving.", minutes="15")
        post("/alarms/shelve/", 400, "Höchstens 480 Minuten sind wählbar, nicht 999.",
             "Refused: At most 480 minutes may be chosen, not 999.", minutes="999",
             reason="x")
        post("/alarms/comment/", 400, "Schreiben Sie zuerst einen Kommentar.",
             "Refused: Write a comment first.", text="")
        post("/alarms/shelve/", 400,
             "das Feld 'instance': Bitte einen gültigen Wert eingeben.",
             "Refused: the field 'instance': Enter a valid value.", instance="x",
             minutes="15", reason="x")
        post("/alarms/unshelve/", 409,
             "Oven_Zone1_Temp_HH ist nicht zurückgestellt; an WinCC wurde nichts gesendet.",
             "Oven_Zone1_Temp_HH is not shelved; nothing was sent to WinCC.")
        post("/alarms/shelve/", 404, "Unbekannte Anlage 'nowhere'.",
             "Unknown site 'nowhere'.", site="nowhere", minutes="15", reason="x")
        self.client.force_login(self.viewer)
        post("/alarms/comment/", 403, "Das dürfen Sie in dieser Anlage nicht.",
             "No permission to do this on this site.", text="x")


class AcknowledgeGermanTestCase(SitesConfigured, BaseTestCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.operator)

    def ack_post(self, alarm=None, headers=GERMAN, **fields):
        data = {"site": alarm.site, "name": alarm.name, "instance": str(alarm.instance_id),
                "state": alarm.state.value, **fields}
        return self.client.post("/alarms/ack/", data, **headers)

    def test_wincc_unreachable_is_said_in_german_and_recorded_in_english(self):
        alarm = self.seed_alarm()
        with untranslated() as missing:
            response = self.ack_post(alarm)
        assert ours(missing) == set()
        assert response.status_code == 200
        assert "WinCC war nicht erreichbar: " in text(response)
        entry = AuditEntry.objects.get()
        assert entry.result == Result.ERROR
        assert entry.message.startswith("WinCC could not be reached: ")

    def test_the_answers_that_send_nothing(self):
        alarm = self.seed_alarm()
        changed = self.ack_post(alarm, state="acknowledged")
        assert ("Der Alarm hat inzwischen den Zustand „Unquittiert“; es wurde nichts gesendet. "
                "Prüfen Sie ihn und quittieren Sie erneut.") in text(changed)
        assert AuditEntry.objects.get().message == (
            "The alarm changed to Unacknowledged since you saw it; nothing was sent. Check it "
            "and acknowledge again.")
        gone = self.ack_post(alarm, name="Gone_Alarm")
        assert "Gone_Alarm ist nicht mehr aktiv; es wurde nichts gesendet." in text(gone)
        assert AuditEntry.objects.latest("id").message == (
            "Gone_Alarm is no longer active; nothing was sent.")

    def test_error_answers(self):
        alarm = self.seed_alarm()
        cases = [
            (self.ack_post(alarm, instance="x"), 400,
             "Fehlerhafte Anfrage: das Feld 'instance': Bitte einen gültigen Wert eingeben."),
            (self.ack_post(alarm, site="nowhere"), 404,
             "Unbekannte Anlage 'nowhere'."),
            (self.client.post("/alarms/ack-all/", {"site": "oven-unified", "count": "5"},
                              **GERMAN), 409,
             "Die Liste hat sich geändert: Jetzt warten 1 Alarme auf Quittierung, nicht 5. "
             "Es wurde nichts gesendet; prüfen Sie die Liste und bestätigen Sie erneut."),
        ]
        for response, status, german in cases:
            assert response.status_code == status
            assert text(response) == german
        assert list(AuditEntry.objects.order_by("id").values_list("message", flat=True)) == [
            "Malformed request: the field 'instance': Enter a valid value.",
            "Unknown site 'nowhere'.",
            "The list changed: 1 alarms await acknowledgement now, not 5. Nothing was sent; "
            "look at the list and confirm again.",
        ]
        self.client.force_login(self.viewer)
        denied = self.ack_post(alarm)
        assert denied.status_code == 403
        assert text(denied) == "Sie dürfen in dieser Anlage keine Alarme quittieren."

    def test_acknowledge_all_result(self):
        self.seed_alarm()
        with untranslated() as missing:
            response = self.client.post("/alarms/ack-all/", {"site": "oven-unified",
                                                              "count": "1"}, **GERMAN)
        assert ours(missing) == set()
        html = text(response)
        assert "In Test oven-unified wurden 0 von 1 quittiert." in html
        assert "nicht quittiert: WinCC war nicht erreichbar: " in html


class WriteGermanTestCase(WriteSites, BaseTestCase):
    DIALOG = f"{WRITE_URL}?site=oven-unified&tag=Oven_Zone1_Setpoint"

    def setUp(self):
        super().setUp()
        self.login(self.writer)
        self.seed_current()

    def test_the_dialog(self):
        with untranslated() as missing:
            german = self.client.get(self.DIALOG, **GERMAN)
        assert missing == set()
        english = self.client.get(self.DIALOG, **ENGLISH)
        assert english_left(english.content, german.content) == []
        html = text(german)
        assert "0 bis 400 °C, in Schritten von 0,5" in html
        assert "In WinCC schreiben" in html

    def test_value_refusals_are_german_with_decimal_commas(self):
        cases = {
            "abc": "“abc” ist keine Zahl; schreiben Sie sie mit Ziffern und einem "
                   "Dezimalkomma, etwa 182,5. An WinCC wurde nichts gesendet.",
            "500": "500 °C liegt außerhalb des Bereichs von Zone 1 setpoint, 0 bis 400 °C. "
                   "An WinCC wurde nichts gesendet.",
            "185,3": "Zone 1 setpoint ändert sich in Schritten von 0,5 °C ab 0; 185,3 liegt "
                     "nicht auf einem Schritt. An WinCC wurde nichts gesendet.",
            "1.000,5": "“1.000,5” ist keine Zahl; schreiben Sie sie mit Ziffern und einem "
                       "Dezimalkomma, etwa 182,5. An WinCC wurde nichts gesendet.",
            # German groups thousands with a point: "1.500" is no 1.5, and 1500 is not meant
            # either where the person may have thought of a decimal point. Refused.
            "1.500": "“1.500” ist keine Zahl; schreiben Sie sie mit Ziffern und einem "
                     "Dezimalkomma, etwa 182,5. An WinCC wurde nichts gesendet.",
            "182.5": "“182.5” ist keine Zahl; schreiben Sie sie mit Ziffern und einem "
                     "Dezimalkomma, etwa 182,5. An WinCC wurde nichts gesendet.",
        }
        for typed, german in cases.items():
            with untranslated() as missing:
                response = self.write_post(typed, headers=GERMAN)
            assert missing == set()
            assert response.status_code == 400
            assert german in text(response), text(response)
        assert AuditEntry.objects.order_by("id").first().message == (
            "“abc” is not a number; write it with digits and a decimal point, such as 182.5. "
            "Nothing was sent to WinCC.")

    def test_a_stale_site_is_refused_in_german_and_recorded_in_english(self):
        self.redis.delete(store.site_health("oven-unified"))
        response = self.write_post("185,5", headers=GERMAN)
        assert "ist nicht aktuell (noch nie abgefragt" in text(response), text(response)
        entry = AuditEntry.objects.get()
        assert entry.result == AuditEntry.Result.STALE
        assert entry.message.startswith("Test oven-unified is not current (never polled yet")
        assert "abgefragt" not in entry.message
        self.assert_nothing_sent()

    def test_a_german_decimal_comma_is_the_number(self):
        response = self.write_post("185,5", headers=GERMAN)
        # Nothing listens at the test sites: the value got as far as WinCC's address.
        assert "WinCC war nicht erreichbar: " in text(response)
        entry = AuditEntry.objects.get()
        assert entry.value_requested == "185.5"
        assert entry.message.startswith("WinCC could not be reached: ")

    def test_in_english_a_comma_is_not_a_decimal_sign(self):
        response = self.write_post("185,5", headers=ENGLISH)
        assert response.status_code == 400
        assert "“185,5” is not a number" in text(response)

    def test_refusal_answers(self):
        cases = [
            (self.write_post(site="nowhere", headers=GERMAN), 404,
             "Unbekannte Anlage 'nowhere'."),
            (self.write_post(tag="Oven_Zone1_Temp", headers=GERMAN), 404,
             "'Oven_Zone1_Temp' ist vom Dashboard aus nicht schreibbar."),
            (self.client.get(f"{WRITE_URL}?site=oven-unified&tag=Nope", **GERMAN), 404,
             "'Nope' ist keine schreibbare Variable der Anlage 'oven-unified'."),
        ]
        for response, status, german in cases:
            assert response.status_code == status
            assert text(response) == german
        self.login(self.viewer)
        denied = self.write_post(headers=GERMAN)
        assert denied.status_code == 403
        assert text(denied) == "Sie dürfen in dieser Anlage keine Variablen schreiben."


class WriteOnSimulatorGermanTestCase(SimulatorSites, BaseTestCase):
    def test_the_confirmation_has_a_decimal_comma_and_the_record_a_point(self):
        self.poll("oven-unified")
        self.client.force_login(self.writer)
        response = self.client.post(WRITE_URL, {
            "site": "oven-unified", "tag": "Oven_Zone1_Setpoint", "value": "185,5"}, **GERMAN)
        assert response.status_code == 200, response.content
        html = text(response)
        assert re.search(r"WinCC hat den Wert übernommen: .+ steht auf 185,5 °C\.", html), html
        assert self.sim.value("Oven_Zone1_Setpoint") == 185.5
        entry = AuditEntry.objects.get()
        assert re.fullmatch(r"WinCC took it: .+ reads 185\.5 °C\.", entry.message)
        assert (entry.value_requested, entry.value_after) == ("185.5", "185.5")
