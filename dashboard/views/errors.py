"""The 404 and 403 pages: the site's layout, one plain sentence and a way home, never
Django's bare defaults (settings.DEBUG is off in production, so these are what people see)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from dashboard.views import pages

NOT_FOUND = _("There is no page at this address.")
FORBIDDEN = _("You may not see this page. An administrator can give you the right.")


def _sentence(exception: Exception | None, default: str) -> str:
    """The view's own sentence when it raised one (Http404("...") / PermissionDenied("...")),
    else `default`; the URL resolver's 404 carries a dict of patterns, never shown."""
    if isinstance(exception, (Http404, PermissionDenied)) and exception.args:
        first = exception.args[0]
        if isinstance(first, str) and first.strip():
            return first
    return default


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = pages.with_banner(request, {"message": _sentence(exception, str(NOT_FOUND))})
    return render(request, "404.html", context, status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = pages.with_banner(request, {"message": _sentence(exception, str(FORBIDDEN))})
    return render(request, "403.html", context, status=403)
