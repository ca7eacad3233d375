"""Every page's frame in German: navigation, sign-in and its refusals, the error pages, a bad
parameter, preferences, the offline page and the manifest, the integrations page. Each is
rendered in German with no message missing from the catalogue and no English left."""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import translation
from django.views import defaults

from dashboard.models import DisplayPreference
from tests.dashboard.acksupport import SimulatorSites
from tests.dashboard.base import BaseTestCase
from tests.dashboard.german import ENGLISH, GERMAN, english_left, untranslated
from tests.dashboard.test_admin import SCREEN_DEFAULTS
from tests.dashboard.test_integrations import ConfiguredTestCase, delivery

# The languages are named in their own words on every page that offers them.
LANGUAGE_NAMES = ("English", "Deutsch")
# German says "Live" too. The annunciator's buttons (templates/partials/annunciator.html)
# are checked with the alarm pages they belong to.
FRAME_WORDS = ("Live", "Enable", "sound", "Silence", "min", "Sound")
# A delivery's protocol and its event's name, as the configuration and the record write them.
# What the WinCC server says of its tags (data types, qualities) and the configuration's file
# and dashboard names, as they are.
ADMIN_WORDS = ("Django", "Axes")
DELIVERY_WORDS = ("webhook", "entered", "raised", "answered", "Internal", "Error")


class GermanFrameMixin:
    def german(self, method: str, url: str, data=None, status: int = 200, allowed=(),
               **extra):
        """The answer in German, checked: every message translated, no English left."""
        send = getattr(self.client, method)
        with untranslated() as missing:
            de = send(url, data, **GERMAN, **extra)
        assert missing == set(), missing
        assert de.status_code == status, de.status_code
        assert de["Content-Language"] == "de"
        en = send(url, data, **ENGLISH, **extra)
        assert en.status_code == status
        people = User.objects.values_list("username", flat=True)  # shown as they are named
        left = english_left(en.content, de.content, allowed=[*allowed, *people, *FRAME_WORDS])
        assert left == [], left
        return de.content.decode()


class SignInInGermanTestCase(GermanFrameMixin, BaseTestCase):
    def test_the_sign_in_page(self):
        page = self.german("get", reverse("login"))
        assert '<label for="id_username">Benutzername</label>' in page
        assert ">Anmelden</button>" in page
        assert "<title>Anmelden · WinCC-Dashboard</title>" in page

    def test_a_wrong_password_is_refused_in_german(self):
        page = self.german("post", reverse("login"),
                           {"username": "viewer", "password": "not-the-password"})
        assert 'data-signin="refused"' in page
        # Django's own sentence, in its own German
        assert "Bitte Benutzername und Passwort eingeben." in page

    @override_settings(OIDC_ENABLED=True, OIDC_PROVIDER_NAME="Entra ID")
    def test_the_providers_button_and_its_refusal(self):
        page = self.german("get", reverse("login") + "?signin=refused", allowed=("Entra",))
        assert "Mit Entra ID anmelden" in page
        assert "Die Anmeldung über Entra ID ist nicht gelungen." in page

    @override_settings(AXES_FAILURE_LIMIT=1)
    def test_the_lock_out_in_german(self):
        with untranslated() as missing:
            response = self.client.post(reverse("login"),
                                        {"username": "viewer", "password": "wrong"}, **GERMAN)
        assert missing == set()
        assert response.status_code == 429
        assert ("Zu viele fehlgeschlagene Anmeldungen für diesen Benutzer von dieser Adresse. "
                "Warten Sie 15 Minuten") in response.content.decode()


class ErrorsInGermanTestCase(GermanFrameMixin, BaseTestCase):
    def test_not_found_signed_in_and_not(self):
        page = self.german("get", "/no-such-page/", status=404)
        assert "<h1>Nicht gefunden</h1>" in page
        assert "Unter dieser Adresse gibt es keine Seite." in page
        self.client.force_login(self.viewer)
        page = self.german("get", "/no-such-page/", status=404)
        assert ">Übersicht</a>" in page and ">Abmelden</button>" in page

    def test_a_views_own_reason(self):
        page = self.german("get", reverse("oidc_authentication_init"), status=404,
                           allowed=("OpenID", "Connect"))
        assert "Die Anmeldung über OpenID Connect ist ausgeschaltet." in page

    def test_not_allowed(self):
        self.client.force_login(self.outsider)
        page = self.german("get", reverse("integrations"), status=403)
        assert "<h1>Nicht erlaubt</h1>" in page
        assert "Sie dürfen die Integrationen nicht sehen." in page

    def test_the_api_answers_a_nul_in_english_whatever_the_browser_asks(self):
        response = self.client.get("/api/v1/sites", {"x": "a\x00"}, **GERMAN)
        assert response.status_code == 422
        assert response.json()["detail"] == "x may not contain a NUL character."


class PreferencesInGermanTestCase(GermanFrameMixin, BaseTestCase):
    def test_the_page_and_a_choice_saved(self):
        self.client.force_login(self.viewer)
        page = self.german("get", reverse("preferences"), allowed=LANGUAGE_NAMES)
        assert "<legend>Farbschema</legend>" in page and "Dunkel (Leitwarte)" in page
        assert "Wie der Browser es wünscht" in page
        # Each language is named in its own words, in either language.
        assert "English" in page and "Deutsch" in page
        response = self.client.post(reverse("preferences"), {"theme": "dark", "language": "de"},
                                    **ENGLISH)
        assert response.status_code == 302
        assert DisplayPreference.objects.get(user=self.viewer).language == "de"
        with untranslated() as missing:
            saved = self.client.get(response["Location"], **ENGLISH).content.decode()
        assert missing == set()
        assert "Gespeichert: Ihre Seiten verwenden diese Einstellungen" in saved

    def test_a_refused_choice_in_german(self):
        self.client.force_login(self.viewer)
        page = self.german("post", reverse("preferences"), {"theme": "pink", "language": ""},
                           status=400, allowed=LANGUAGE_NAMES)
        assert "pink" in page


class OfflineInGermanTestCase(GermanFrameMixin, BaseTestCase):
    def test_the_offline_page(self):
        page = self.german("get", reverse("offline"))
        assert "NICHT AKTUELL" in page
        assert 'data-offline-since="Keine Verbindung seit {time}; die Werte sind nicht aktuell."' \
            in page

    def test_the_manifest_names_the_app_in_the_browsers_language(self):
        with untranslated() as missing:
            manifest = json.loads(self.client.get(reverse("manifest"), **GERMAN).content)
        assert missing == set()
        assert (manifest["name"], manifest["lang"]) == ("WinCC-Dashboard", "de")
        english = json.loads(self.client.get(reverse("manifest"), **ENGLISH).content)
        assert (english["name"], english["lang"]) == ("WinCC dashboard", "en")


class BadParameterInGermanTestCase(GermanFrameMixin, ConfiguredTestCase):
    def test_a_bad_parameter(self):
        self.client.force_login(self.viewer)
        page = self.german("get", reverse("overview"), {"transport": "bogus"}, status=400)
        assert "Es gibt kein transport &#x27;bogus&#x27;. Wählen Sie eines von: sse, poll." in page
        page = self.german("get", reverse("overview"), {"x": "a\x00"}, status=400)
        assert "x darf kein NUL-Zeichen enthalten." in page


class IntegrationsInGermanTestCase(GermanFrameMixin, ConfiguredTestCase):
    def test_the_page_with_its_deliveries(self):
        delivery()
        delivery(event_id="e2", status="delivered", attempts=3, last_error="", detail="HTTP 200")
        self.client.force_login(self.admin)
        # What the delivery recorded (the far end's answer) is kept as it came.
        page = self.german("get", reverse("integrations"),
                           allowed=DELIVERY_WORDS)
        assert "nicht bestätigt, aufgegeben (unzustellbar)" in page
        assert "Oven_Zone1_Temp in oven-unified über 200 (Hysterese 2)" in page
        assert "höchstens eine Zustellung alle 30 s" in page

    def test_a_refused_filter(self):
        self.client.force_login(self.admin)
        page = self.german("get", reverse("integrations"), {"status": "bogus"}, status=400,
                           allowed=DELIVERY_WORDS)
        assert "Status:" in page


class AdministrationInGermanTestCase(GermanFrameMixin, SimulatorSites, BaseTestCase):
    """The admin's own pages are Django's, in Django's German; the product's additions too."""

    def setUp(self):
        super().setUp()
        self.client.force_login(self.admin)

    def test_the_admin_index_with_the_configuration_in_use(self):
        page = self.german("get", reverse("admin:index"), allowed=ADMIN_WORDS)
        assert "Die Server der Anlagen prüfen (nur lesend)" in page
        assert "Konfiguration in Gebrauch:" in page

    def test_the_wincc_check_page(self):
        page = self.german("get", reverse("wincc-check"), allowed=ADMIN_WORDS)
        assert '<button type="submit">oven-unified prüfen</button>' in page
        page = self.german("post", reverse("wincc-check"), {"site": "nowhere"}, status=400,
                           allowed=ADMIN_WORDS)
        assert "Es ist keine Anlage nowhere konfiguriert." in page

    def test_the_tag_browser_with_a_page_of_tags_and_a_change(self):
        page = self.german("get", reverse("tag-browser"), allowed=ADMIN_WORDS)
        assert "Variablen auflisten" in page
        listed = {"site": "line-classic", "pattern": "Oven_*"}
        page = self.german("get", reverse("tag-browser"), listed, allowed=ADMIN_WORDS)
        assert "6 Variablen von Line (WinCC Classic) passen zu Oven_*; Seite 1 von 1" in page
        page = self.german("get", reverse("tag-browser"), {**listed, "pattern": "'"},
                           status=400, allowed=ADMIN_WORDS)
        assert "Ein Muster enthält nur Zeichen von Variablennamen" in page
        picked = {**listed, "page": "1", "per_page": "50", "action": "preview",
                  "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1",
                  "form-0-name": "Oven_Zone1_Temp", "form-0-pick": "on",
                  "dashboard": "oven-board"}
        page = self.german("post", reverse("tag-browser"), picked, allowed=ADMIN_WORDS)
        assert "Variable(n) hinzugefügt" in page
        page = self.german("post", reverse("tag-browser"), {**picked, "form-0-pick": ""},
                           status=400, allowed=ADMIN_WORDS)
        assert "Wählen Sie mindestens eine Variable" in page

    def test_a_wall_screen_added_and_its_token_shown_once(self):
        add = "/admin/dashboard/wallscreen/add/"
        page = self.german("get", add, allowed=ADMIN_WORDS)
        assert "Dunkel (Leitwarte)" in page and "Nur Priorität 1" in page
        screen = {"name": "W12", "dashboard_id": "overview", **SCREEN_DEFAULTS}
        page = self.german("post", add, screen, allowed=(*ADMIN_WORDS, "overview"))
        assert "Dieses Token wird nur jetzt angezeigt." in page
        assert "Zurück zu den Wandbildschirmen" in page

    def test_an_api_token_added_and_shown_once(self):
        add = "/admin/dashboard/apitoken/add/"
        self.german("get", add, allowed=ADMIN_WORDS)
        token = {"name": "ERP", "owner": self.viewer.pk, "sites": "*"}
        page = self.german("post", add, token, allowed=(*ADMIN_WORDS, "ERP", "Bearer"))
        assert "API-Token <strong>ERP</strong> liest die Anlagen <strong>*</strong>" in page


class ServerErrorsInGermanTestCase(BaseTestCase):
    """Django's own 400 and 500 answers, drawn without the request's context."""

    def test_a_server_error_and_a_bad_request_in_both_languages(self):
        request = RequestFactory().get("/")
        for language, heading, sentence in (
                ("de", "Serverfehler", "Der Fehler wurde protokolliert"),
                ("en", "Server error", "It was logged")):
            with untranslated() as missing, translation.override(language):
                page = defaults.server_error(request)
            html = page.content.decode()
            assert (page.status_code, missing) == (500, set())
            assert f'<html lang="{language}">' in html
            assert f"<h1>{heading}</h1>" in html and sentence in html
        with untranslated() as missing, translation.override("de"):
            page = defaults.bad_request(request, Exception("a header Django refused"))
        assert (page.status_code, missing) == (400, set())
        assert "Das Dashboard kann diese Anfrage nicht annehmen." in page.content.decode()
