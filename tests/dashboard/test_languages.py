"""English or German: from the browser's Accept-Language, or the person's own choice."""

from __future__ import annotations

from django.urls import reverse

from dashboard.models import DisplayPreference
from tests.dashboard.base import BaseTestCase
from tests.dashboard.german import untranslated

URL = reverse("preferences")


class LanguageTestCase(BaseTestCase):
    def setUp(self):
        self.client.force_login(self.viewer)

    def test_the_browser_chooses_when_the_person_did_not(self):
        german = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
        assert german["Content-Language"] == "de"
        assert '<html lang="de"' in german.content.decode()
        english = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="en-GB")
        assert english["Content-Language"] == "en"
        assert '<html lang="en"' in english.content.decode()
        assert "Accept-Language" in german["Vary"]

    def test_a_language_the_product_does_not_speak_falls_back_to_english(self):
        response = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="fr-FR")
        assert response["Content-Language"] == "en"

    def test_the_persons_choice_wins_over_the_browser_and_is_kept(self):
        response = self.client.post(URL, {"theme": "auto", "language": "de"},
                                    HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 302
        assert DisplayPreference.objects.get(user=self.viewer).language == "de"
        page = self.client.get(URL, HTTP_ACCEPT_LANGUAGE="en")
        assert page["Content-Language"] == "de"
        assert "Sprache" in page.content.decode()
        # Back to the browser's choice.
        self.client.post(URL, {"theme": "auto", "language": ""})
        assert self.client.get(URL, HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"

    def test_a_language_not_offered_is_refused_with_a_reason(self):
        response = self.client.post(URL, {"theme": "auto", "language": "xx"})
        assert response.status_code == 400
        assert "xx is not one of the available choices" in response.content.decode()
        assert not DisplayPreference.objects.filter(user=self.viewer).exists()

    def test_the_recorder_finds_a_message_the_catalogue_lacks(self):
        from django.utils import translation

        with untranslated() as missing, translation.override("de"):
            assert translation.gettext("Language") == "Sprache"
            translation.gettext("A sentence nobody translated")
            translation.ngettext("%d alarm nobody translated", "%d alarms", 2)
        assert missing == {"A sentence nobody translated", "%d alarm nobody translated"}

    def test_the_check_finds_english_left_in_texts_titles_and_the_scripts_words(self):
        from tests.dashboard.german import english_left

        english = ('<p>NOT LIVE</p><span title="Sound on">x</span>'
                   '<div data-text-page="Page {page}" data-events="snapshot pulse tile-1a">'
                   '<script>var never = "Shown"</script><p>WinCC · 182.5</p>')
        assert english_left(english, english) == ["NOT LIVE", "Sound on", "Page {page}"]
        german = ('<p>NICHT AKTUELL</p><span title="Ton an">x</span>'
                  '<div data-text-page="Seite {page}" data-events="snapshot pulse tile-1a">'
                  '<script>var never = "Shown"</script><p>WinCC · 182,5</p>')
        assert english_left(english, german) == []
