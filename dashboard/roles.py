"""The product's roles as Django groups, created idempotently (after migrate, demo, tests).

The models are imported where used: the settings read the role names (directory sign-in's
mapping, dashboard/directory/groups.py) before Django's apps are loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import Group

# SiteAccess.ALL_SITES, for code that runs before the models can be imported.
ALL_SITES = "*"

VIEWERS = "Viewers"
OPERATORS = "Operators"
AUDITORS = "Auditors"
# Writes setpoints; not part of Operators: acknowledging an alarm changes no process value.
SETPOINT_WRITERS = "Setpoint writers"

ROLE_PERMISSIONS = {
    VIEWERS: ["view_dashboard"],
    OPERATORS: ["view_dashboard", "acknowledge_alarm", "shelve_alarm"],
    AUDITORS: ["view_dashboard", "view_audit"],
    SETPOINT_WRITERS: ["view_dashboard", "write_tag"],
}


def ensure_role(name: str, sites: list[str] | None = None, role: str | None = None) -> Group:
    """The group `name` with the permissions of `role` (default: the name before any ":"),
    granted `sites` (default: every site)."""
    from django.contrib.auth.models import Group, Permission

    from dashboard.models import SiteAccess

    group, _ = Group.objects.get_or_create(name=name)
    perms = Permission.objects.filter(
        content_type__app_label="dashboard",
        codename__in=ROLE_PERMISSIONS[role or name.split(":")[0]],
    )
    group.permissions.set(perms)
    for site in sites or [SiteAccess.ALL_SITES]:
        SiteAccess.objects.get_or_create(group=group, site_id=site)
    return group


def create_missing_roles(**kwargs) -> None:
    """After `migrate`: the roles exist on every install, granted every site.

    Only groups that do not exist yet are made; a role an administrator has narrowed to
    some sites, or given other permissions, is left as it is.
    """
    from django.contrib.auth.models import Group

    for name in ROLE_PERMISSIONS:
        if not Group.objects.filter(name=name).exists():
            ensure_role(name)
