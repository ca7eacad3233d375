"""Idle expiry that counts what a person does, not what a live page does by itself.

SESSION_SAVE_EVERY_REQUEST renews the session on each request; a live page opens its
stream (and the polling fallback asks every second) without anyone at the desk, so those
requests must not renew it, or a desk left on a live page would never be signed out.
Wall screens set their own long expiry when their token is accepted.
"""

from __future__ import annotations

from django.contrib.sessions.middleware import SessionMiddleware
from django.utils.cache import patch_vary_headers

LIVE_PREFIX = "/live/"


class IdleSessionMiddleware(SessionMiddleware):
    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if (
            session is not None
            and request.path.startswith(LIVE_PREFIX)
            and not session.modified
        ):
            if session.accessed:
                patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)
