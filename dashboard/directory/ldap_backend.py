"""LDAP and Active Directory sign-in: django-auth-ldap, with the dashboard's group mapping.

The person types their directory name and password into the ordinary sign-in form; the
form's authenticate() passes through django-axes first, so the lock-out counts directory
failures as it counts local ones.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django_auth_ldap.backend import LDAPBackend

from dashboard.directory import groups


class DirectoryLDAPBackend(LDAPBackend):
    def get_or_build_user(self, username, ldap_user):
        user, built = super().get_or_build_user(username, ldap_user)
        # A local account (break-glass, with its own password) is never taken over by a
        # directory entry of the same name.
        if not built and user.has_usable_password():
            raise ldap_user.AuthenticationFailed(f"{username} is a local account")
        return user, built

    async def aget_user(self, user_id):
        # The signed-in person of each request under ASGI: django-auth-ldap's backend is no
        # BaseBackend and lacks the async variant Django asks the session's backend for.
        return await sync_to_async(self.get_user)(user_id)

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None:
            groups.apply(user, ldap_user.group_dns, settings.DIRECTORY_GROUPS)
        return user
