"""/preferences/: a person's theme, kept with their account and drawn into every page."""

from dashboard.models import DisplayPreference
from tests.dashboard.livedata import PlantTestCase, healthy_plant


class PreferencesTestCase(PlantTestCase):
    def setUp(self):
        super().setUp()
        healthy_plant(self.redis)

    def test_signed_out_goes_to_sign_in(self):
        response = self.client.get("/preferences/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_without_a_choice_the_device_decides(self):
        html = self.get_as(self.viewer, "/").content.decode()
        assert '<html lang="en">' in html  # no data-theme: prefers-color-scheme decides
        form = self.client.get("/preferences/").content.decode()
        assert 'value="auto" ' in form and 'checked' in form.split('value="auto"')[1][:40]

    def test_a_chosen_theme_is_kept_and_drawn_into_every_page(self):
        self.client.force_login(self.viewer)
        response = self.client.post("/preferences/", {"theme": "dark"})
        assert response.status_code == 302 and response["Location"] == "/preferences/?saved=1"
        assert DisplayPreference.objects.get(user=self.viewer).theme == "dark"
        for path in ("/", "/alarms/", "/sites/", "/preferences/?saved=1"):
            html = self.client.get(path).content.decode()
            assert '<html lang="en" data-theme="dark">' in html, path
        self.client.post("/preferences/", {"theme": "light"})
        assert DisplayPreference.objects.filter(user=self.viewer).count() == 1
        assert 'data-theme="light"' in self.client.get("/").content.decode()
        # another person's pages are not touched
        assert 'data-theme' not in self.get_as(self.operator, "/").content.decode()[:200]

    def test_a_theme_that_does_not_exist_is_refused_with_a_sentence(self):
        self.client.force_login(self.viewer)
        for data in ({"theme": "neon"}, {}, {"theme": "d\u00e4rk"}):
            response = self.client.post("/preferences/", data)
            assert response.status_code == 400
            assert 'role="alert"' in response.content.decode()
        assert not DisplayPreference.objects.filter(user=self.viewer).exists()

    def test_only_get_and_post(self):
        self.client.force_login(self.viewer)
        assert self.client.put("/preferences/").status_code == 405
