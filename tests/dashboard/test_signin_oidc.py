"""Sign-in through OpenID Connect against a real provider process (tests/harness/
oidc_provider.py): the authorization code flow with PKCE, signed ID tokens checked against the
provider's JWKS, rights per site from the groups claim, local accounts beside it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from dashboard import roles
from dashboard.directory import config as directory
from dashboard.directory import groups
from tests.dashboard.base import PASSWORD, BaseTestCase
from tests.dashboard.directorysupport import SiteRightsAssertions, rights
from tests.harness.oidc_provider import start_oidc_provider

pytestmark = pytest.mark.process

CALLBACK = "http://testserver/oidc/callback/"
PEOPLE = {
    "alice": {"password": "alice-provider-password", "groups": ["/plant/line-operators"]},
    "bob": {"password": "bob-provider-password", "groups": ["/plant/oven-operators"],
            "given_name": "Bob"},
    "operator": {"password": "provider-operator-password", "groups": ["/plant/admins"]},
}


def oidc_settings(provider, **changes: str) -> override_settings:
    mapping = rights("/plant/line-operators", "/plant/oven-operators", "/plant/admins")
    return override_settings(
        **directory.oidc_settings({**provider.settings_env(), **changes}), OIDC_ENABLED=True,
        DIRECTORY_GROUPS=groups.parse(mapping),
        AUTHENTICATION_BACKENDS=["axes.backends.AxesStandaloneBackend",
                                 "django.contrib.auth.backends.ModelBackend",
                                 directory.OIDC_BACKEND],
    )


class OIDCSignInTestCase(SiteRightsAssertions, BaseTestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory(prefix="wdash-oidc-")
        cls.provider = start_oidc_provider(Path(cls.folder.name), client_id="wincc-dashboard",
                                           client_secret="provider-client-secret-for-tests",
                                           redirect_uri=CALLBACK)
        cls.oidc_on = oidc_settings(cls.provider)
        cls.oidc_on.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.oidc_on.disable()
        cls.provider.stop()
        cls.folder.cleanup()

    def setUp(self):
        super().setUp()
        self.provider.set_people(PEOPLE)

    def sign_in(self, username: str, password: str, next_page: str = ""):
        """The browser's path: the dashboard sends it to the provider, the person signs in
        there, the provider sends it back with a code; the callback's answer is returned."""
        start = self.client.get("/oidc/authenticate/" + (f"?next={next_page}" if next_page
                                                         else ""))
        assert start.status_code == 302
        authorize = start["Location"]
        assert authorize.startswith(f"{self.provider.issuer}/authorize?")
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
        assert query["code_challenge_method"] == "S256" and query["nonce"]
        assert httpx.get(authorize).status_code == 200  # the provider's sign-in form
        answer = httpx.post(f"{self.provider.issuer}/authorize",
                            data={**query, "username": username, "password": password})
        if answer.status_code != 302:
            return answer
        back = urlsplit(answer.headers["location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
        return self.client.get(back.path, parse_qs(back.query))

    def test_login_page_offers_the_provider(self):
        html = self.client.get("/accounts/login/").content.decode()
        assert "Sign in with Plant directory" in html
        assert 'href="/oidc/authenticate/"' in html
        assert 'name="password"' in html  # the local form stays (break-glass)

    def test_groups_claim_gives_different_rights_on_different_sites(self):
        response = self.sign_in("alice", "alice-provider-password", next_page="/alarms/")
        assert response.status_code == 302 and response["Location"] == "/alarms/"
        alice = self.signed_in_user()
        assert (alice.username, alice.email) == ("alice", "alice@plant.test")
        assert not alice.has_usable_password()
        self.assert_line_operator(alice)

        self.client.post("/accounts/logout/")
        assert self.sign_in("bob", "bob-provider-password")["Location"] == "/"
        bob = self.signed_in_user()
        assert bob.first_name == "Bob"
        self.assert_oven_operator(bob)

    def test_leaving_a_group_takes_the_right_at_the_next_sign_in(self):
        self.sign_in("alice", "alice-provider-password")
        self.client.post("/accounts/logout/")
        self.provider.set_people({**PEOPLE, "alice": {**PEOPLE["alice"], "groups": []}})
        assert self.sign_in("alice", "alice-provider-password").status_code == 302
        self.assert_no_rights(self.signed_in_user())

    def test_a_code_the_provider_never_gave_is_refused(self):
        start = self.client.get("/oidc/authenticate/")
        state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
        response = self.client.get("/oidc/callback/", {"code": "forged-code", "state": state})
        assert response["Location"] == "/accounts/login/?signin=refused"
        assert "_auth_user_id" not in self.client.session

    def test_provider_out_of_reach_sends_back_to_the_sign_in_page(self):
        start = self.client.get("/oidc/authenticate/")
        state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
        with override_settings(OIDC_OP_TOKEN_ENDPOINT="http://127.0.0.1:9/token"):
            response = self.client.get("/oidc/callback/", {"code": "any", "state": state})
        assert response["Location"] == "/accounts/login/?signin=refused"

    def test_the_provider_never_takes_over_a_local_account(self):
        response = self.sign_in("operator", "provider-operator-password")
        assert response["Location"] == "/accounts/login/?signin=refused"
        assert "_auth_user_id" not in self.client.session
        page = self.client.get(response["Location"]).content.decode()
        assert "The sign-in through Plant directory did not succeed" in page
        operator = User.objects.get(username="operator")
        assert not operator.is_superuser
        assert list(operator.groups.values_list("name", flat=True)) == [roles.OPERATORS]
        # ...which still signs in with its own password.
        self.client.post("/accounts/login/", {"username": "operator", "password": PASSWORD})
        assert self.signed_in_user() == self.operator

    def test_an_id_token_meant_for_another_client_is_refused(self):
        self.provider.set_people({**PEOPLE, "alice": {**PEOPLE["alice"],
                                                      "audience": "another-application"}})
        response = self.sign_in("alice", "alice-provider-password")
        assert response["Location"] == "/accounts/login/?signin=refused"
        assert "_auth_user_id" not in self.client.session
        assert not User.objects.filter(username="alice").exists()

    def test_an_id_token_from_another_issuer_is_refused(self):
        with override_settings(OIDC_ISSUER="https://login.example.invalid/tenant/v2.0"):
            response = self.sign_in("alice", "alice-provider-password")
        assert response["Location"] == "/accounts/login/?signin=refused"
        assert "_auth_user_id" not in self.client.session
