from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import TestCase

from dashboard import roles
from dashboard.models import SiteAccess


class DefaultRolesTestCase(TestCase):
    def test_migrate_creates_the_roles_with_their_permissions(self):
        # The test database was built by migrate, so the roles are already there.
        operators = Group.objects.get(name=roles.OPERATORS)
        assert sorted(operators.permissions.values_list("codename", flat=True)) == [
            "acknowledge_alarm", "shelve_alarm", "view_dashboard"]
        assert list(operators.site_access.values_list("site_id", flat=True)) == ["*"]
        assert set(Group.objects.values_list("name", flat=True)) >= {
            roles.VIEWERS, roles.OPERATORS, roles.AUDITORS}

    def test_a_narrowed_role_is_left_as_the_administrator_set_it(self):
        operators = Group.objects.get(name=roles.OPERATORS)
        SiteAccess.objects.filter(group=operators).delete()
        SiteAccess.objects.create(group=operators, site_id="line-classic")
        call_command("migrate", verbosity=0)
        assert list(operators.site_access.values_list("site_id", flat=True)) == ["line-classic"]


class SetpointWritersRoleTestCase(TestCase):
    def test_writing_is_its_own_role_not_the_operators(self):
        writers = Group.objects.get(name=roles.SETPOINT_WRITERS)
        assert sorted(writers.permissions.values_list("codename", flat=True)) == [
            "view_dashboard", "write_tag"]
        operators = Group.objects.get(name=roles.OPERATORS)
        assert "write_tag" not in operators.permissions.values_list("codename", flat=True)
