"""Shared by the directory sign-in tests (LDAP, OpenID Connect): one mapping of directory
groups to rights on the three test sites, and what each person may then do where.

alice operates the line ("line-classic") and may only view the oven ("oven-unified");
bob operates the oven and may not see the line; neither sees the utilities.
"""

from __future__ import annotations

import json
import os
import unittest
from pathlib import Path

from django.contrib.auth.models import User

from dashboard import permissions

LINE, OVEN, UTILITIES = "line-classic", "oven-unified", "utilities-restv1"


def rights(line_operators: str, oven_operators: str, administrators: str) -> dict:
    """The mapping file's content for these three directory groups."""
    return {
        line_operators: [{"role": "Operators", "sites": [LINE]},
                         {"role": "Viewers", "sites": [OVEN]}],
        oven_operators: [{"role": "Operators", "sites": [OVEN]}],
        administrators: [{"role": "Administrators"}],
    }


def write_rights(folder: Path, mapping: dict) -> Path:
    path = folder / "directory-groups.json"
    path.write_text(json.dumps(mapping))
    return path


def require(binary: Path, package: str) -> None:
    """Skip without the Debian package, or fail on CI (as the browser tests do)."""
    if not binary.exists():
        message = f"{binary} is not installed (apt-get install {package})"
        if os.environ.get("CI", "").lower() == "true":
            raise AssertionError(message)
        raise unittest.SkipTest(message)


class SiteRightsAssertions:
    """Mixin for a Django TestCase."""

    def signed_in_user(self) -> User:
        return User.objects.get(pk=self.client.session["_auth_user_id"])

    def assert_line_operator(self, user: User) -> None:
        assert permissions.can_acknowledge(user, LINE)
        assert permissions.can_view(user, OVEN) and not permissions.can_acknowledge(user, OVEN)
        assert not permissions.can_view(user, UTILITIES)
        assert not user.is_superuser

    def assert_oven_operator(self, user: User) -> None:
        assert permissions.can_acknowledge(user, OVEN)
        assert not permissions.can_view(user, LINE)
        assert not permissions.can_view(user, UTILITIES)

    def assert_no_rights(self, user: User) -> None:
        for site in (LINE, OVEN, UTILITIES):
            assert not permissions.can_view(user, site)
