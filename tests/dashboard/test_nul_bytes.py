"""A NUL byte anywhere a request carries text is a 400 or an ordinary answer, never a 500:
PostgreSQL refuses NUL in text, so a value that reaches a query unchecked fails there (SQLite
takes it). Run on PostgreSQL by `make test-postgres`. The fuzz test (test_fuzz.py) covers the
product's parameters; this covers what reaches the database around them: the sign-in form
and its lock-out records, the admin's search, filters and object ids, the session cookie and
the forwarded address."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.dashboard.base import PASSWORD, BaseTestCase

NUL = "a\x00b"
ADMIN_LISTS = ["auditentry", "journalentry", "shelving", "alarmcomment", "siteaccess",
               "wallscreen", "delivery"]


class NulByteTestCase(BaseTestCase):
    def assert_no_server_error(self, response, what):
        assert response.status_code < 500, (what, response.status_code)

    def test_a_nul_in_the_query_or_form_is_a_400_with_a_sentence(self):
        client = Client()
        client.force_login(self.admin)
        answer = client.get(reverse("admin:dashboard_auditentry_changelist"), {"q": NUL})
        assert answer.status_code == 400
        assert "q may not contain a NUL character." in answer.content.decode()
        answer = client.post(reverse("alarm-ack"), {"site": "line-classic", "comment": NUL})
        assert answer.status_code == 400
        assert "comment may not contain a NUL character." in answer.content.decode()

    def test_sign_in_with_a_nul_in_name_or_password(self):
        url = reverse("login")
        for data in ({"username": NUL, "password": PASSWORD},
                     {"username": "viewer", "password": NUL},
                     {"username": NUL, "password": NUL}):
            self.assert_no_server_error(Client().post(url, data), data)
        # The person can still sign in afterwards: nothing was locked by the bad attempts.
        answer = Client().post(url, {"username": "viewer", "password": PASSWORD})
        assert answer.status_code == 302

    def test_the_admins_lists_search_and_filters(self):
        client = Client()
        client.force_login(self.admin)
        for model in ADMIN_LISTS:
            url = reverse(f"admin:dashboard_{model}_changelist")
            for query in ({"q": NUL}, {"site_id": NUL}, {"o": NUL}, {"p": NUL},
                          {"username__exact": NUL}, {"_changelist_filters": f"q={NUL}"}):
                self.assert_no_server_error(client.get(url, query), (model, query))
        for url in (reverse("admin:auth_user_changelist"), reverse("admin:auth_group_changelist")):
            self.assert_no_server_error(client.get(url, {"q": NUL}), url)

    def test_an_admin_object_id_with_a_nul(self):
        client = Client()
        client.force_login(self.admin)
        for model in ("auth_user", *(f"dashboard_{m}" for m in ADMIN_LISTS)):
            for view in ("change", "delete", "history"):
                url = reverse(f"admin:{model}_{view}", args=["1"]).replace("/1/", "/a%00b/")
                self.assert_no_server_error(client.get(url), url)

    def test_a_session_cookie_with_a_nul(self):
        client = Client()
        client.cookies["sessionid"] = NUL
        for name in ("overview", "login"):
            self.assert_no_server_error(client.get(reverse(name)), name)

    def test_a_forwarded_address_with_a_nul(self):
        answer = Client(HTTP_X_FORWARDED_FOR=NUL, REMOTE_ADDR="127.0.0.1").post(
            reverse("login"), {"username": "viewer", "password": "wrong"})
        self.assert_no_server_error(answer, "X-Forwarded-For")
