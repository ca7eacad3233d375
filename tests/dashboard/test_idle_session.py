from django.conf import settings
from django.contrib.sessions.models import Session

from tests.dashboard.livedata import PlantTestCase


class IdleSessionTestCase(PlantTestCase):
    """Idle expiry counts what a person does: a live page's own requests do not renew it."""

    def _expiry(self):
        key = self.client.cookies[settings.SESSION_COOKIE_NAME].value
        return Session.objects.get(session_key=key).expire_date

    def test_polling_fallback_does_not_renew_the_session(self):
        self.client.force_login(self.viewer)
        Session.objects.update(expire_date=Session.objects.get().expire_date.replace(year=2030))
        before = self._expiry()
        response = self.client.get("/live/poll/dashboard/overview/")
        assert response.status_code == 200
        assert settings.SESSION_COOKIE_NAME not in response.cookies
        assert self._expiry() == before

    def test_a_page_load_renews_the_session(self):
        self.client.force_login(self.viewer)
        Session.objects.update(expire_date=Session.objects.get().expire_date.replace(year=2030))
        before = self._expiry()
        response = self.client.get("/d/overview/")
        assert response.status_code == 200
        assert settings.SESSION_COOKIE_NAME in response.cookies
        assert self._expiry() != before
