"""English or German for one request: the person's choice in /preferences/ when they made
one, otherwise what the browser asks for (Django's LocaleMiddleware, which runs first).

The person's choice is read with their theme in one query and kept on the request, so a
page that draws <html> asks the database once for both (dashboard/themes.py).
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from dashboard.models import DisplayPreference

CODES = frozenset(code for code, _ in settings.LANGUAGES)
# Answers read by machines and scripts stay English whatever the caller's Accept-Language:
# the JSON API, the health check, the metrics, the REST Connector's inbound endpoint.
MACHINE_PREFIXES = ("/api/", "/health/", "/metrics", "/ingest/")


def _keep(request: HttpRequest, row: tuple[str, str] | None) -> str:
    theme, language = row or ("auto", "")
    request._ui_theme = theme or "auto"  # type: ignore[attr-defined]
    request._ui_language = language if language in CODES else ""  # type: ignore[attr-defined]
    return request._ui_language  # type: ignore[attr-defined]


def _rows(user):
    return DisplayPreference.objects.filter(user=user).values_list("theme", "language")


def chosen(request: HttpRequest) -> str:
    """The language the signed-in person chose, or "" (the browser decides)."""
    if hasattr(request, "_ui_language"):
        return request._ui_language
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return ""
    return _keep(request, _rows(user).first())


def activate(request: HttpRequest, language: str) -> None:
    """`language` (one of CODES) for the rest of this request; "" leaves the one in use."""
    if language in CODES:
        translation.activate(language)
        request.LANGUAGE_CODE = language


class PersonLanguageMiddleware:
    """After authentication: a person's chosen language wins over the browser's (only where
    a session cookie could name a person); machines' answers are English."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)  # type: ignore[type-var]  # Django's documented pattern

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if request.path.startswith(MACHINE_PREFIXES):
            activate(request, "en")
        elif request.COOKIES.get(settings.SESSION_COOKIE_NAME):
            activate(request, chosen(request))
        return self.get_response(request)

    async def __acall__(self, request):
        if request.path.startswith(MACHINE_PREFIXES):
            activate(request, "en")
        elif request.COOKIES.get(settings.SESSION_COOKIE_NAME) and hasattr(request, "auser"):
            user = await request.auser()
            if user.is_authenticated:
                activate(request, _keep(request, await _rows(user).afirst()))
        return await self.get_response(request)
