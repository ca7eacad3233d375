"""Directory sign-in's settings and mapping file: off by default, and every mistake in them
one sentence at start rather than a surprise at someone's sign-in."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import SimpleTestCase

from dashboard.directory import config as directory
from dashboard.directory import groups

OIDC = {
    "OIDC_CLIENT_ID": "wincc-dashboard", "OIDC_CLIENT_SECRET": "secret",
    "OIDC_AUTHORIZATION_ENDPOINT": "https://idp.example/auth",
    "OIDC_TOKEN_ENDPOINT": "https://idp.example/token",
    "OIDC_JWKS_ENDPOINT": "https://idp.example/jwks", "OIDC_ISSUER": "https://idp.example",
}
LDAP = {"LDAP_SERVER_URI": "ldaps://dc01.plant.example",
        "LDAP_USER_SEARCH_BASE": "ou=people,dc=plant,dc=example",
        "LDAP_GROUP_SEARCH_BASE": "ou=groups,dc=plant,dc=example"}


class OffByDefaultTestCase(SimpleTestCase):
    def test_nothing_is_on_without_its_variables(self):
        assert not settings.OIDC_ENABLED and not settings.LDAP_ENABLED
        assert settings.AUTHENTICATION_BACKENDS == [
            "axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
        assert directory.oidc_settings({}) == {} and directory.ldap_settings({}) == {}
        assert directory.group_map({}) == {}

    def test_login_page_and_provider_addresses_as_before(self):
        page = self.client.get("/accounts/login/").content.decode()
        assert "Sign in with" not in page and "/oidc/" not in page
        assert self.client.get("/oidc/authenticate/").status_code == 404
        assert self.client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_oidc_names_what_it_misses():
    with pytest.raises(directory.DirectoryConfigError,
                       match="OIDC_TOKEN_ENDPOINT, OIDC_ISSUER are not set"):
        directory.oidc_settings({**OIDC, "OIDC_TOKEN_ENDPOINT": "", "OIDC_ISSUER": " "})


def test_oidc_defaults():
    values = directory.oidc_settings(OIDC)
    assert values["OIDC_RP_SIGN_ALGO"] == "RS256" and values["OIDC_USE_PKCE"] is True
    assert values["OIDC_USERNAME_CLAIM"] == "preferred_username"
    assert values["OIDC_GROUPS_CLAIM"] == "groups" and values["OIDC_VERIFY_SSL"] is True
    assert values["OIDC_OP_USER_ENDPOINT"] == ""


def test_ldap_names_what_it_misses_and_refuses_unknown_words():
    with pytest.raises(directory.DirectoryConfigError, match="LDAP_GROUP_SEARCH_BASE is not"):
        directory.ldap_settings({**LDAP, "LDAP_GROUP_SEARCH_BASE": ""})
    with pytest.raises(directory.DirectoryConfigError, match="LDAP_GROUP_TYPE must be one of"):
        directory.ldap_settings({**LDAP, "LDAP_GROUP_TYPE": "ad"})
    with pytest.raises(directory.DirectoryConfigError, match="LDAP_START_TLS must be one of"):
        directory.ldap_settings({**LDAP, "LDAP_START_TLS": "sure"})
    with pytest.raises(directory.DirectoryConfigError, match="LDAP_TIMEOUT_SECONDS must be"):
        directory.ldap_settings({**LDAP, "LDAP_TIMEOUT_SECONDS": "soon"})


def test_active_directory_settings():
    values = directory.ldap_settings({**LDAP, "LDAP_GROUP_TYPE": "activeDirectory",
                                      "LDAP_USER_FILTER": "(sAMAccountName=%(user)s)"})
    assert type(values["AUTH_LDAP_GROUP_TYPE"]).__name__ == "NestedActiveDirectoryGroupType"
    assert values["AUTH_LDAP_USER_SEARCH"].filterstr == "(sAMAccountName=%(user)s)"
    assert values["AUTH_LDAP_GROUP_SEARCH"].filterstr == "(objectClass=group)"


@pytest.mark.parametrize(("content", "sentence"), [
    ("not json", "is not JSON"),
    ("[]", "must be an object"),
    ('{"cn=ops": {"role": "Operators"}}', "must map to a list of rights"),
    ('{"cn=ops": [{"role": "Operator"}]}', "names the role 'Operator'; the roles are"),
    ('{"cn=ops": [{"role": "Operators", "sites": "line"}]}', "must be a list of site ids"),
    ('{"cn=ops": [{"role": "Operators", "sites": []}]}', "must be a list of site ids"),
    ('{"cn=ops": [{"role": "Operators", "site": ["line"]}]}', 'with "role" and optionally'),
    ('{"cn=adm": [{"role": "Administrators", "sites": ["line"]}]}', "act on every site"),
])
def test_mapping_mistakes_are_one_sentence(tmp_path, content, sentence):
    path = tmp_path / "groups.json"
    path.write_text(content)
    with pytest.raises(directory.DirectoryConfigError, match="DIRECTORY_GROUPS_FILE") as caught:
        directory.group_map({"DIRECTORY_GROUPS_FILE": str(path)})
    assert sentence in str(caught.value)


def test_missing_mapping_file(tmp_path):
    with pytest.raises(directory.DirectoryConfigError, match="cannot be read"):
        directory.group_map({"DIRECTORY_GROUPS_FILE": str(tmp_path / "none.json")})


def test_mapping_keys_compare_without_case_and_merge(tmp_path):
    path = tmp_path / "groups.json"
    path.write_text(json.dumps({
        "CN=Ops,DC=Plant": [{"role": "Operators", "sites": ["line"]}],
        "cn=ops,dc=plant": [{"role": "Viewers"}],
    }))
    mapping = directory.group_map({"DIRECTORY_GROUPS_FILE": str(path)})
    assert mapping == {"cn=ops,dc=plant": (groups.Grant("Operators", ("line",)),
                                           groups.Grant("Viewers", ("*",)))}
