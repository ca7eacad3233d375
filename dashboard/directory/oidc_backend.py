"""OpenID Connect sign-in (Entra ID, Keycloak, ...): mozilla-django-oidc's authorization
code flow with PKCE, the person named by one claim, their rights by the groups claim."""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from dashboard.directory import groups

logger = logging.getLogger(__name__)


def _listed(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


class DirectoryOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as exc:
            # A refused code, or a provider out of reach: the person is sent back to the
            # sign-in page with a sentence, never shown a server error.
            logger.warning("OpenID Connect sign-in failed: %s", exc)
            return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        if "nonce" in kwargs:
            # The ID token: mozilla-django-oidc checks its signature, expiry and nonce; it
            # must also come from our provider and be meant for this dashboard. No payload:
            # the sign-in fails as a refused one does (back to the sign-in page).
            if payload.get("iss") != self.get_settings("OIDC_ISSUER"):
                logger.warning("Refused an ID token from issuer %r (OIDC_ISSUER is %r)",
                               payload.get("iss"), self.get_settings("OIDC_ISSUER"))
                return None
            if self.get_settings("OIDC_RP_CLIENT_ID") not in _listed(payload.get("aud")):
                logger.warning("Refused an ID token meant for %r", payload.get("aud"))
                return None
        return payload

    def get_userinfo(self, access_token, id_token, payload):
        # Entra ID puts the groups in the ID token only; the user info endpoint may add more.
        claims = dict(payload)
        if self.get_settings("OIDC_OP_USER_ENDPOINT"):
            claims.update(super().get_userinfo(access_token, id_token, payload))
        return claims

    def _username(self, claims) -> str:
        value = claims.get(self.get_settings("OIDC_USERNAME_CLAIM"))
        return value.strip() if isinstance(value, str) else ""

    def verify_claims(self, claims):
        return bool(self._username(claims))

    def filter_users_by_claims(self, claims):
        return get_user_model().objects.filter(username=self._username(claims))

    def create_user(self, claims):
        # No password: the account signs in through the provider only.
        user = get_user_model().objects.create_user(self._username(claims))
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        if user.has_usable_password():
            # A local account (break-glass) is never taken over by the provider's person.
            raise SuspiciousOperation(f"{user.username} is a local account")
        user.email = claims.get("email") or user.email
        user.first_name = (claims.get("given_name") or user.first_name)[:150]
        user.last_name = (claims.get("family_name") or user.last_name)[:150]
        user.save(update_fields=["email", "first_name", "last_name"])
        groups.apply(user, _listed(claims.get(self.get_settings("OIDC_GROUPS_CLAIM"))),
                     settings.DIRECTORY_GROUPS)
        return user
