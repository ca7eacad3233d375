"""Sign-in at /accounts/login/, sign-out by POST, idle expiry, lock-out after failures."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.test import RequestFactory, override_settings
from django.utils import timezone

from dashboard.proxies import TrustedProxies
from dashboard.views.auth import client_address
from tests.dashboard.base import PASSWORD, BaseTestCase


class LoginTestCase(BaseTestCase):
    def sign_in(self, password: str, address: str = "10.1.1.1", username: str = "operator"):
        return self.client.post("/accounts/login/", {"username": username, "password": password},
                                REMOTE_ADDR=address)

    def test_page_is_plain_and_accessible(self):
        response = self.client.get("/accounts/login/")
        assert response.status_code == 200
        html = response.content.decode()
        assert '<label for="id_username">User name</label>' in html
        assert 'autocomplete="current-password"' in html
        assert "csrfmiddlewaretoken" in html

    def test_signs_in_and_goes_where_asked(self):
        response = self.client.post("/accounts/login/?next=/alarms/",
                                    {"username": "operator", "password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == "/alarms/"
        assert self.client.session["_auth_user_id"] == str(self.operator.pk)

    def test_never_sends_a_person_to_another_site(self):
        response = self.client.post("/accounts/login/?next=https://elsewhere.example/",
                                    {"username": "operator", "password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == "/"

    def test_wrong_password_is_refused_plainly(self):
        response = self.sign_in("not-the-password")
        assert response.status_code == 200
        assert 'data-signin="refused"' in response.content.decode()
        assert "_auth_user_id" not in self.client.session

    @override_settings(AXES_FAILURE_LIMIT=3)
    def test_locks_out_after_repeated_failures(self):
        for _ in range(2):
            assert self.sign_in("wrong").status_code == 200
        response = self.sign_in("wrong")
        assert response.status_code == 429
        html = response.content.decode()
        assert 'data-signin="locked"' in html
        assert "Too many failed sign-ins" in html
        # Locked even with the right password, from that address, for that user...
        assert self.sign_in(PASSWORD).status_code == 429
        assert "_auth_user_id" not in self.client.session
        # ...but not for the same user at another desk.
        assert self.sign_in(PASSWORD, address="10.1.1.2").status_code == 302

    def test_sign_out_is_a_post(self):
        self.client.force_login(self.viewer)
        assert self.client.get("/accounts/logout/").status_code == 405
        assert "_auth_user_id" in self.client.session
        response = self.client.post("/accounts/logout/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/"
        assert "_auth_user_id" not in self.client.session

    @override_settings(SESSION_COOKIE_AGE=120)
    def test_idle_session_expires(self):
        self.client.force_login(self.auditor)
        response = self.client.get("/audit/")
        assert response.status_code == 200
        # Each request renews the idle timer...
        assert response.cookies["sessionid"]["max-age"] == 120
        # ...and a session left idle past it is gone.
        key = self.client.session.session_key
        Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
        response = self.client.get("/audit/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


class ClientAddressTestCase(BaseTestCase):
    def request(self, peer: str = "10.0.0.9"):
        return RequestFactory().get("/", REMOTE_ADDR=peer,
                                    HTTP_X_FORWARDED_FOR="6.6.6.6, 192.168.1.20")

    def test_forwarded_header_is_ignored_by_default(self):
        assert client_address(self.request()) == "10.0.0.9"

    @override_settings(TRUSTED_PROXIES=TrustedProxies.parse("10.0.0.0/24"))
    def test_from_a_trusted_proxy_the_last_hop_counts(self):
        assert client_address(self.request()) == "192.168.1.20"

    @override_settings(TRUSTED_PROXIES=TrustedProxies.parse("10.0.0.9"))
    def test_from_any_other_peer_the_header_is_ignored(self):
        assert client_address(self.request(peer="10.0.0.10")) == "10.0.0.10"

    @override_settings(TRUSTED_PROXIES=TrustedProxies.parse("10.0.0.9"))
    def test_lock_out_counts_the_forwarded_client_only_from_a_trusted_proxy(self):
        """django-axes keys failures by client_address: a header sent straight to the server
        cannot buy a fresh set of attempts."""
        for claimed in ("203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4",
                        "203.0.113.5", "203.0.113.6"):
            response = self.client.post(
                "/accounts/login/", {"username": "operator", "password": "wrong"},
                REMOTE_ADDR="10.0.0.50", HTTP_X_FORWARDED_FOR=claimed,
            )
        assert response.status_code == 429
        # through the proxy, another client is another address: not locked out
        response = self.client.post(
            "/accounts/login/", {"username": "operator", "password": "wrong"},
            REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
        assert response.status_code == 200
