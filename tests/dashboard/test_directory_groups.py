"""The directory mapping applied at a sign-in (dashboard/directory/groups.py), without a
directory: the rights it gives per site, what it takes away, what it leaves alone; and the
system check that names a mapped site the configuration lacks."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.test import TestCase, override_settings

from dashboard import permissions, roles
from dashboard.checks import check_wincc_config
from dashboard.directory import groups
from tests.fixtures.live_server import unpolled_plant

MAPPING = groups.parse({
    "CN=Line Ops,DC=Plant": [{"role": "Operators", "sites": ["line-classic"]},
                             {"role": "Viewers", "sites": ["oven-unified"]}],
    "writers": [{"role": "Setpoint writers", "sites": ["oven-unified"]}],
    "admins": [{"role": "Administrators"}],
})


class ApplyTestCase(TestCase):
    def setUp(self):
        self.person = User.objects.create_user("directory-person")

    def apply(self, *directory_groups: str) -> User:
        groups.apply(self.person, directory_groups, MAPPING)
        return User.objects.get(pk=self.person.pk)  # rights read afresh

    def test_rights_per_site_from_the_groups_matched_without_case(self):
        person = self.apply("cn=line ops,dc=plant", "Unmapped group")
        assert permissions.can_acknowledge(person, "line-classic")
        assert permissions.can_view(person, "oven-unified")
        assert not permissions.can_acknowledge(person, "oven-unified")
        assert not permissions.can_view(person, "utilities-restv1")
        assert sorted(person.groups.values_list("name", flat=True)) == [
            "Directory: Operators on line-classic", "Directory: Viewers on oven-unified"]

    def test_the_next_sign_in_takes_what_the_directory_no_longer_gives(self):
        self.person.groups.add(Group.objects.create(name="Night shift"))
        self.apply("CN=Line Ops,DC=Plant", "writers", "admins")
        person = self.apply("writers")
        assert permissions.can_write_tag(person, "oven-unified")
        assert not permissions.can_view(person, "line-classic")
        assert not (person.is_superuser or person.is_staff)
        assert sorted(person.groups.values_list("name", flat=True)) == [
            "Directory: Setpoint writers on oven-unified", "Night shift"]

    def test_administrators_and_a_group_shared_by_many(self):
        assert self.apply("admins").is_superuser
        other = User.objects.create_user("another-person")
        groups.apply(other, ["CN=Line Ops,DC=Plant"], MAPPING)
        self.apply("CN=Line Ops,DC=Plant")
        shared = Group.objects.get(name="Directory: Operators on line-classic")
        assert set(shared.user_set.values_list("username", flat=True)) == {
            "directory-person", "another-person"}
        assert list(shared.site_access.values_list("site_id", flat=True)) == ["line-classic"]
        assert sorted(shared.permissions.values_list("codename", flat=True)) == sorted(
            roles.ROLE_PERMISSIONS[roles.OPERATORS])

    def test_no_mapping_gives_nothing(self):
        person = User.objects.get(pk=self.person.pk)
        groups.apply(person, ["CN=Line Ops,DC=Plant"], {})
        assert not person.groups.exists()


def test_a_mapped_site_the_configuration_lacks_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("LINE_TOKEN", "token-only-for-this-test")
    config = unpolled_plant(tmp_path)  # one site, "line"
    mapping = groups.parse({"ops": [{"role": "Operators", "sites": ["lnie", "*"]},
                                    {"role": "Viewers", "sites": ["line"]}]})
    with override_settings(DIRECTORY_GROUPS=mapping, WINCC_CONFIG=str(config)):
        messages = check_wincc_config()
    assert [(m.id, m.msg) for m in messages if m.level >= 30] == [(
        "wdash.W004", "DIRECTORY_GROUPS_FILE gives Operators on site 'lnie' to 'ops', but the "
        "configuration has no such site.")]
