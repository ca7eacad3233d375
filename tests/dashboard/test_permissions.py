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
