"""API tokens: `Authorization: Bearer wdash_<prefix>_<secret>` on every API request.

A token reads a site when its own scope names the site AND its owner may view the site
(dashboard.permissions): a token never sees more than the person it belongs to.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from dashboard import permissions
from dashboard.models import ApiToken


class TokenAuth(HttpBearer):
    """The token (ninja keeps it as request.auth); None, answered 401 by app.py, for a
    missing, unknown or revoked token, or one whose owner was switched off."""

    openapi_description = "An API token, `wdash_<prefix>_<secret>` (docs/api.md)."

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = ApiToken.for_text(token)
        if found is None or not found.owner.is_active:
            return None
        found.note_use(timezone.now(), settings.API_TOKEN_LAST_USED_SECONDS)
        return found


def token_of(request: HttpRequest) -> ApiToken:
    """The token that authenticated this request (TokenAuth ran before any view)."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


def can_read(token: ApiToken, site_id: str) -> bool:
    return token.covers(site_id) and permissions.can_view(token.owner, site_id)
