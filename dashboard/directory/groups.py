"""The one mapping from a directory's groups to the dashboard's roles and sites.

The mapping is a JSON file (DIRECTORY_GROUPS_FILE): each key a directory group (an LDAP or
Active Directory group's DN, or a value of the OpenID Connect groups claim: a Keycloak group,
an Entra ID group's object id or app role), each value the rights it gives:

    {"cn=line-operators,ou=groups,dc=plant,dc=example": [
        {"role": "Operators", "sites": ["line-classic"]},
        {"role": "Viewers", "sites": ["*"]}]}

It is applied at every directory sign-in, so the directory stays the truth: whoever left a
directory group has lost its rights at their next sign-in. The rights live in groups of their
own ("Directory: Operators on line-classic"), which the mapping alone fills and empties;
groups an administrator gives by hand are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction

from dashboard import roles

if TYPE_CHECKING:
    from django.contrib.auth.models import Group

GROUP_PREFIX = "Directory: "
# Superuser and staff: the admin pages and every right on every site.
ADMINISTRATORS = "Administrators"
ROLES = (*roles.ROLE_PERMISSIONS, ADMINISTRATORS)


class GroupMapError(ValueError):
    """The mapping file cannot be used; the message says why, in one sentence."""


@dataclass(frozen=True)
class Grant:
    role: str
    sites: tuple[str, ...] = (roles.ALL_SITES,)


# Directory group, case-folded (DNs compare without case), to the rights it gives.
GroupMap = Mapping[str, tuple[Grant, ...]]


def _grant(value: object, where: str) -> Grant:
    if not isinstance(value, dict) or set(value) - {"role", "sites"} or "role" not in value:
        raise GroupMapError(f'{where} must be an object with "role" and optionally "sites".')
    role = value["role"]
    if role not in ROLES:
        raise GroupMapError(f"{where} names the role {role!r}; the roles are "
                            f"{', '.join(ROLES)}.")
    sites = value.get("sites", [roles.ALL_SITES])
    if (not isinstance(sites, list) or not sites
            or not all(isinstance(s, str) and s.strip() for s in sites)):
        raise GroupMapError(f'{where}: "sites" must be a list of site ids, or ["*"] for all.')
    if role == ADMINISTRATORS and sites != [roles.ALL_SITES]:
        raise GroupMapError(f"{where}: {ADMINISTRATORS} act on every site; give no sites.")
    return Grant(role, tuple(s.strip() for s in sites))


def parse(data: object) -> GroupMap:
    if not isinstance(data, dict):
        raise GroupMapError("The mapping must be an object: directory group -> list of rights.")
    mapping: dict[str, tuple[Grant, ...]] = {}
    for name, grants in data.items():
        if not name.strip() or not isinstance(grants, list):
            raise GroupMapError(f"The directory group {name!r} must map to a list of rights.")
        key = name.strip().casefold()
        mapping[key] = mapping.get(key, ()) + tuple(
            _grant(g, f"Right {n} of {name!r}") for n, g in enumerate(grants, 1))
    return mapping


def load(path: str) -> GroupMap:
    """The mapping in the file at `path`, or GroupMapError with one sentence."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise GroupMapError(f"DIRECTORY_GROUPS_FILE {path} cannot be read: "
                            f"{exc.strerror}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GroupMapError(f"DIRECTORY_GROUPS_FILE {path} is not JSON: {exc}.") from None
    try:
        return parse(data)
    except GroupMapError as exc:
        raise GroupMapError(f"DIRECTORY_GROUPS_FILE {path}: {exc}") from None


def _group(role: str, site: str) -> Group:
    where = "every site" if site == roles.ALL_SITES else site
    return roles.ensure_role(f"{GROUP_PREFIX}{role} on {where}", [site], role=role)


def apply(user, directory_groups: Iterable[str], mapping: GroupMap) -> None:
    """Give `user` exactly the rights `mapping` derives from `directory_groups`."""
    grants = [g for name in directory_groups for g in mapping.get(name.strip().casefold(), ())]
    administrator = any(g.role == ADMINISTRATORS for g in grants)
    with transaction.atomic():
        wanted = {_group(g.role, site) for g in grants if g.role != ADMINISTRATORS
                  for site in g.sites}
        by_hand = user.groups.exclude(name__startswith=GROUP_PREFIX)
        user.groups.set([*by_hand, *wanted])
        if (user.is_superuser, user.is_staff) != (administrator, administrator):
            user.is_superuser = user.is_staff = administrator
            user.save(update_fields=["is_superuser", "is_staff"])
    # Rights read before this sign-in (dashboard.permissions caches them on the user).
    user.__dict__.pop("_wdash_granted_sites", None)
    for cache in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)
