"""The benchmark's viewers (bench/viewers.py): sessions that Django takes as signed in."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from bench.viewers import ensure_viewer, signed_in_sessions
from dashboard import permissions, roles

pytestmark = pytest.mark.django_db


def test_each_session_is_the_viewer_signed_in():
    user = ensure_viewer("bench-viewer")
    keys = signed_in_sessions(user, 3)
    assert len(set(keys)) == 3
    for key in keys:
        request = RequestFactory().get("/")
        request.session = SessionStore(session_key=key)
        assert get_user(request) == user
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == [roles.VIEWERS]


def test_a_login_viewer_has_the_password_and_may_view():
    user = ensure_viewer("p1-viewer", "a-password-for-this-test")
    user.refresh_from_db()
    assert user.check_password("a-password-for-this-test")
    assert permissions.can_view(user, "any-site")


def test_a_login_operator_may_acknowledge():
    user = ensure_viewer("p8-operator", "a-password-for-this-test", roles.OPERATORS)
    assert list(user.groups.values_list("name", flat=True)) == [roles.OPERATORS]
    assert permissions.can_acknowledge(user, "any-site")
    assert not permissions.can_acknowledge(ensure_viewer("p8-viewer", "another"), "any-site")
