from dashboard import permissions
from tests.dashboard.base import BaseTestCase


class PermissionsTestCase(BaseTestCase):
    def test_viewer_views_but_cannot_acknowledge(self):
        assert permissions.can_view(self.viewer, "oven-unified")
        assert not permissions.can_acknowledge(self.viewer, "oven-unified")

    def test_operator_acknowledges_everywhere(self):
        assert permissions.can_acknowledge(self.operator, "oven-unified")
        assert permissions.can_acknowledge(self.operator, "line-classic")

    def test_site_scoped_operator(self):
        assert permissions.can_acknowledge(self.line_operator, "line-classic")
        assert not permissions.can_acknowledge(self.line_operator, "oven-unified")
        assert permissions.can_view(self.line_operator, "oven-unified")

    def test_outsider_sees_nothing(self):
        assert not permissions.can_view(self.outsider, "oven-unified")
        assert not permissions.can_view_any(self.outsider)

    def test_superuser_may_all(self):
        assert permissions.can_acknowledge(self.admin, "anything")

    def test_only_setpoint_writers_write(self):
        assert permissions.can_write_tag(self.writer, "oven-unified")
        assert permissions.can_write_any(self.writer)
        assert not permissions.can_acknowledge(self.writer, "oven-unified")
        for user in (self.viewer, self.operator, self.line_operator, self.auditor, self.outsider):
            assert not permissions.can_write_tag(user, "line-classic"), user
            assert not permissions.can_write_any(user), user
        assert permissions.can_write_tag(self.admin, "anything")

    def test_a_writer_narrowed_to_one_site(self):
        from django.contrib.auth.models import Group, Permission

        from dashboard.models import SiteAccess

        group = Group.objects.create(name="Setpoint writers:line-classic")
        group.permissions.set(Permission.objects.filter(codename="write_tag"))
        SiteAccess.objects.create(group=group, site_id="line-classic")
        self.viewer.groups.add(group)
        assert permissions.can_write_tag(self.viewer, "line-classic")
        assert not permissions.can_write_tag(self.viewer, "oven-unified")
