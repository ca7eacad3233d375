"""The product's roles as Django groups, created idempotently (migrations, demo, tests)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

from dashboard.models import SiteAccess

VIEWERS = "Viewers"
OPERATORS = "Operators"
AUDITORS = "Auditors"

ROLE_PERMISSIONS = {
    VIEWERS: ["view_dashboard"],
    OPERATORS: ["view_dashboard", "acknowledge_alarm"],
    AUDITORS: ["view_dashboard", "view_audit"],
}


def ensure_role(name: str, sites: list[str] | None = None) -> Group:
    """The group `name` with its permissions, granted `sites` (default: every site)."""
    group, _ = Group.objects.get_or_create(name=name)
    perms = Permission.objects.filter(
        content_type__app_label="dashboard", codename__in=ROLE_PERMISSIONS[name.split(":")[0]]
    )
    group.permissions.set(perms)
    for site in sites or [SiteAccess.ALL_SITES]:
        SiteAccess.objects.get_or_create(group=group, site_id=site)
    return group
