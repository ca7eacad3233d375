"""The shared base test case: one user per role, as in healthchecks' BaseTestCase; and a
person who may view one site only."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission, User
from django.test import TestCase

from dashboard import roles
from dashboard.models import SiteAccess

PASSWORD = "test-password-only-for-tests"


class BaseTestCase(TestCase):
    """Users: viewer (all sites), operator (all sites), line_operator (acknowledge on
    "line-classic" only, view everywhere), writer (setpoint writer, all sites), auditor,
    admin (superuser), outsider (no rights)."""

    @classmethod
    def setUpTestData(cls):
        viewers = roles.ensure_role(roles.VIEWERS)
        operators = roles.ensure_role(roles.OPERATORS)
        auditors = roles.ensure_role(roles.AUDITORS)
        writers = roles.ensure_role(roles.SETPOINT_WRITERS)
        line_ops = Group.objects.create(name="Operators:line-classic")
        line_ops.permissions.set(
            Permission.objects.filter(codename__in=["view_dashboard", "acknowledge_alarm"])
        )
        SiteAccess.objects.create(group=line_ops, site_id="line-classic")

        cls.viewer = User.objects.create_user("viewer", password=PASSWORD)
        cls.viewer.groups.add(viewers)
        cls.operator = User.objects.create_user("operator", password=PASSWORD)
        cls.operator.groups.add(operators)
        cls.line_operator = User.objects.create_user("line_operator", password=PASSWORD)
        cls.line_operator.groups.add(line_ops, viewers)
        cls.writer = User.objects.create_user("writer", password=PASSWORD)
        cls.writer.groups.add(writers)
        cls.auditor = User.objects.create_user("auditor", password=PASSWORD)
        cls.auditor.groups.add(auditors)
        cls.admin = User.objects.create_superuser("admin", password=PASSWORD)
        cls.outsider = User.objects.create_user("outsider", password=PASSWORD)


def site_viewer(site: str, username: str) -> User:
    """A person who may view `site` and no other."""
    group = Group.objects.create(name=f"Viewers:{site}")
    group.permissions.set(Permission.objects.filter(codename="view_dashboard"))
    SiteAccess.objects.create(group=group, site_id=site)
    user = User.objects.create_user(username, password=PASSWORD)
    user.groups.add(group)
    return user
