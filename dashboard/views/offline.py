"""Installable on tablets: the web app manifest, the service worker and its offline page.

The service worker (templates/offline/sw.js) keeps only the offline page and the files it
needs. It never keeps a live page, a stream or an API answer: when a page cannot be loaded,
the person sees the offline page saying since when nothing is live, never old values as if
they were current (docs/tablets.md).
"""

from __future__ import annotations

import hashlib
import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_GET

# The files the offline page needs; their names carry their content's hash once collected.
OFFLINE_FILES = ("dashboard/dashboard.css", "dashboard/offline.js", "dashboard/icon.svg")
# The browser asks for the worker again after this long at most; until then a repeat visit
# costs nothing for it (live.js registers it with updateViaCache "all").
WORKER_MAX_AGE = 600
MANIFEST_MAX_AGE = 24 * 3600
# Colours of the dark theme's page and header (static/dashboard/dashboard.css).
APP_BACKGROUND = "#141414"


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: what a tablet installs to its home screen, named in the
    language the browser asks for (the answer varies by Accept-Language)."""
    response = JsonResponse({
        "name": gettext("WinCC dashboard"),
        "short_name": "WinCC",
        "description": gettext("Live values and alarms of the plant's WinCC servers."),
        "lang": get_language(),
        "id": reverse("overview"),
        "start_url": reverse("overview"),
        "scope": reverse("overview"),
        "display": "standalone",
        "background_color": APP_BACKGROUND,
        "theme_color": APP_BACKGROUND,
        "icons": [
            {"src": static("dashboard/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("dashboard/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("dashboard/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }, content_type="application/manifest+json")
    patch_cache_control(response, public=True, max_age=MANIFEST_MAX_AGE)
    return response


def worker_source() -> str:
    """The service worker's text. Its cache is named after what it keeps, so a new version
    of any of those files makes a new worker, which drops the old cache."""
    precache = [reverse("offline")] + [_offline_url(name) for name in OFFLINE_FILES]
    offline_page = render_to_string("offline/page.html", {"files": _files()})
    version = hashlib.sha256(json.dumps([precache, offline_page]).encode()).hexdigest()[:16]
    return render_to_string("offline/sw.js", {
        "cache": f"offline-{version}",
        "offline_url": json.dumps(reverse("offline")),
        "precache": json.dumps(precache),
    })


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """/sw.js, from the root so that it serves every page of the site."""
    source = worker_source()
    etag = '"' + hashlib.sha256(source.encode()).hexdigest()[:32] + '"'
    not_modified = get_conditional_response(request, etag=etag)
    response = not_modified or HttpResponse(source, content_type="text/javascript")
    response.headers["ETag"] = etag
    patch_cache_control(response, public=True, max_age=WORKER_MAX_AGE)
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """The page the service worker shows when a page cannot be loaded. It holds no value and
    nothing of the person (it is kept on the device): offline.js fills in since when."""
    response = render(request, "offline/page.html", {"files": _files()})
    patch_cache_control(response, no_cache=True)
    return response


def _offline_url(name: str) -> str:
    """A file's address as the offline page asks for it: the query keeps the live pages' own
    requests for the same file off the worker (it answers only these)."""
    return static(name) + "?offline"


def _files() -> dict[str, str]:
    return {name.split("/")[-1].replace(".", "_"): _offline_url(name) for name in OFFLINE_FILES}
