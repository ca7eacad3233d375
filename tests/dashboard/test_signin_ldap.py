"""Sign-in through LDAP against a real slapd started for these tests: rights per site from the
directory's groups, taken away at the next sign-in, local accounts beside it, the lock-out."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Group, User
from django.test import override_settings

from dashboard import roles
from dashboard.directory import config as directory
from dashboard.directory import groups
from dashboard.directory.ldap_backend import DirectoryLDAPBackend
from dashboard.models import AuditEntry
from tests.dashboard.acksupport import SitesConfigured
from tests.dashboard.base import PASSWORD, BaseTestCase
from tests.dashboard.directorysupport import (
    LINE,
    OVEN,
    SiteRightsAssertions,
    require,
    rights,
)
from tests.harness import slapd
from tests.harness.processes import free_port

pytestmark = pytest.mark.process

ALICE_PASSWORD = "alice-directory-password"
BOB_PASSWORD = "bob-directory-password"


class LDAPDirectory:
    """Mixin for a BaseTestCase: a slapd of alice, bob and a namesake of the local operator,
    and LDAP sign-in on with the shared mapping (tests/dashboard/directorysupport.py)."""

    @classmethod
    def setUpClass(cls):
        require(slapd.SLAPD, "slapd")
        cls.directory = slapd.start_slapd()
        try:
            d = cls.directory
            d.add_person("alice", ALICE_PASSWORD, given="Alice", sn="Adams")
            d.add_person("bob", BOB_PASSWORD)
            d.add_person("operator", "the-directory-operator-password")  # a local name too
            d.add_group("line-operators", ["alice"])
            d.add_group("oven-operators", ["bob"])
            d.add_group("plant-admins", [])
            # Group DNs in other letter cases than the directory's: DNs compare without case.
            mapping = rights(d.group_dn("Line-Operators"), d.group_dn("oven-operators").upper(),
                             d.group_dn("plant-admins"))
            ldap_settings = directory.ldap_settings({
                "LDAP_SERVER_URI": d.uri, "LDAP_USER_SEARCH_BASE": slapd.PEOPLE,
                "LDAP_GROUP_SEARCH_BASE": slapd.GROUPS,
                "LDAP_BIND_DN": slapd.ADMIN_DN, "LDAP_BIND_PASSWORD": slapd.ADMIN_PASSWORD,
            })
            cls.ldap_on = override_settings(
                **ldap_settings, LDAP_ENABLED=True, DIRECTORY_GROUPS=groups.parse(mapping),
                AUTHENTICATION_BACKENDS=["axes.backends.AxesStandaloneBackend",
                                         "django.contrib.auth.backends.ModelBackend",
                                         directory.LDAP_BACKEND],
            )
            cls.ldap_on.enable()
            super().setUpClass()
        except BaseException:
            cls.directory.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.ldap_on.disable()
        cls.directory.stop()

    def sign_in(self, username: str, password: str, address: str = "10.2.2.2"):
        return self.client.post("/accounts/login/", {"username": username, "password": password},
                                REMOTE_ADDR=address)


class LDAPSignInTestCase(LDAPDirectory, SiteRightsAssertions, BaseTestCase):

    def test_directory_groups_give_different_rights_on_different_sites(self):
        response = self.sign_in("alice", ALICE_PASSWORD)
        assert response.status_code == 302, response.content
        alice = self.signed_in_user()
        assert (alice.username, alice.first_name, alice.email) == (
            "alice", "Alice", "alice@plant.test")
        assert not alice.has_usable_password()
        self.assert_line_operator(alice)
        # Under ASGI each request finds its person through the backend's async variant.
        assert async_to_sync(DirectoryLDAPBackend().aget_user)(alice.pk) == alice

        self.client.post("/accounts/logout/")
        assert self.sign_in("bob", BOB_PASSWORD).status_code == 302
        self.assert_oven_operator(self.signed_in_user())

    def test_leaving_a_directory_group_takes_the_right_at_the_next_sign_in(self):
        assert self.sign_in("alice", ALICE_PASSWORD).status_code == 302
        alice = self.signed_in_user()
        # A group given by hand is the administrator's, not the directory's: it stays.
        alice.groups.add(Group.objects.create(name="Night shift"))
        self.client.post("/accounts/logout/")

        self.directory.set_members("line-operators", [])
        self.directory.set_members("oven-operators", ["alice"])
        assert self.sign_in("alice", ALICE_PASSWORD).status_code == 302
        alice = self.signed_in_user()
        assert not any(g.name.startswith("Directory: Operators on line")
                       for g in alice.groups.all())
        self.assert_oven_operator(alice)
        assert alice.groups.filter(name="Night shift").exists()

        self.client.post("/accounts/logout/")
        self.directory.set_members("oven-operators", ["bob"])
        self.directory.set_members("plant-admins", ["alice"])
        assert self.sign_in("alice", ALICE_PASSWORD).status_code == 302
        assert self.signed_in_user().is_superuser
        self.client.post("/accounts/logout/")
        self.directory.set_members("plant-admins", [])
        assert self.sign_in("alice", ALICE_PASSWORD).status_code == 302
        alice = self.signed_in_user()
        assert not (alice.is_superuser or alice.is_staff)
        self.assert_no_rights(alice)
        self.directory.set_members("line-operators", ["alice"])

    def test_wrong_directory_password_is_refused_and_locks_out(self):
        response = self.sign_in("alice", "not-her-password")
        assert response.status_code == 200
        assert b'data-signin="refused"' in response.content
        for _ in range(4):
            self.sign_in("alice", "not-her-password")
        # Locked out: even her right password is not tried any more.
        response = self.sign_in("alice", ALICE_PASSWORD)
        assert response.status_code == 429
        assert "_auth_user_id" not in self.client.session
        # Another address is not locked.
        assert self.sign_in("alice", ALICE_PASSWORD, address="10.3.3.3").status_code == 302

    def test_local_accounts_keep_signing_in(self):
        response = self.sign_in("operator", PASSWORD)
        assert response.status_code == 302
        assert self.signed_in_user() == self.operator

    def test_a_directory_entry_never_takes_over_a_local_account(self):
        response = self.sign_in("operator", "the-directory-operator-password")
        assert response.status_code == 200
        assert "_auth_user_id" not in self.client.session
        operator = User.objects.get(username="operator")
        assert operator.has_usable_password()
        assert list(operator.groups.values_list("name", flat=True)) == [roles.OPERATORS]

    def test_a_directory_out_of_reach_refuses_the_sign_in_plainly(self):
        with override_settings(AUTH_LDAP_SERVER_URI=f"ldap://127.0.0.1:{free_port()}"):
            response = self.sign_in("alice", ALICE_PASSWORD)
        assert response.status_code == 200
        assert b'data-signin="refused"' in response.content
        # ...while the break-glass account still signs in.
        assert self.sign_in("admin", PASSWORD).status_code == 302

    def test_unknown_person_is_refused(self):
        assert self.sign_in("mallory", "whatever-password").status_code == 200
        assert not User.objects.filter(username="mallory").exists()


class LDAPAcknowledgeAuditTestCase(SitesConfigured, LDAPDirectory, BaseTestCase):
    """A directory person acts under their own name: the audit row says who."""

    def test_acknowledge_where_allowed_refused_elsewhere_with_the_name(self):
        assert self.sign_in("alice", ALICE_PASSWORD).status_code == 302
        refused = self.ack_post(self.seed_alarm(site=OVEN))
        assert refused.status_code == 403
        entry = AuditEntry.objects.get()
        assert (entry.username, entry.site_id, entry.result) == (
            "alice", OVEN, AuditEntry.Result.DENIED)

        tried = self.ack_post(self.seed_alarm(site=LINE, name="Conveyor_Fault"))
        assert tried.status_code != 403
        entry = AuditEntry.objects.filter(site_id=LINE).get()
        assert entry.username == "alice" and entry.result != AuditEntry.Result.DENIED
