"""Wall screens: a control-room screen signed in by a view-only token, no keyboard needed.

The token is accepted once (`?token=...`), the screen's id is kept in the session, and
every page load and stream connect checks that the screen has not been revoked.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode

from dashboard import languages, layouts, params, permissions, siteconfig, themes
from dashboard.models import WallScreen
from dashboard.views.pages import render_page

SESSION_KEY = "wall_screen_id"
# A wall screen runs for weeks; its session must outlive the desk's idle expiry.
WALL_SESSION_SECONDS = 400 * 24 * 3600
MIN_ROTATE_SECONDS = 5
MAX_ROTATE_SECONDS = 24 * 3600
TOKEN_MAX = 100
# A dashboard too big for the screen turns its pages this often when nothing else says.
PREVIEW_PAGE_SECONDS = 30  # issued tokens are 43 characters


def current_screen(request) -> WallScreen | None:
    screen_id = request.session.get(SESSION_KEY)
    if screen_id is None:
        return None
    return WallScreen.objects.filter(pk=screen_id, revoked_at__isnull=True).first()


def wall_screen_viewer(request, config) -> layouts.Viewer | None:
    """A signed-in viewer may preview a wall screen; otherwise the screen's token decides.
    The stream and the poll render in the wall's language from here on (_speak)."""
    screen = current_screen(request)
    if screen is not None or permissions.can_view_any(request.user):
        _speak(request, screen)
        return layouts.Viewer.for_wall(config)
    return None


def _speak(request, screen: WallScreen | None) -> str:
    """The wall's language for this request, made the active one: `?lang=` in the screen's
    address, else the screen's own setting, else what its browser (or the person previewing)
    asked for (LocaleMiddleware and dashboard/languages.py have activated that already)."""
    language = params.choice(request.GET, "lang", sorted(languages.CODES))
    language = language or (screen.language if screen is not None else "")
    languages.activate(request, language)
    return translation.get_language()


def wall(request, dashboard_id: str) -> HttpResponse:
    token = params.text(request.GET, "token", max_length=TOKEN_MAX)
    if token:
        screen = WallScreen.for_token(token)
        if screen is None:
            return _denied(request)
        request.session.cycle_key()
        request.session[SESSION_KEY] = screen.pk
        request.session.set_expiry(WALL_SESSION_SECONDS)
        query = request.GET.copy()
        del query["token"]  # keep the token out of the address bar and the history
        suffix = f"?{query.urlencode()}" if query else ""
        return HttpResponseRedirect(f"{request.path}{suffix}")
    screen = current_screen(request)
    if screen is None and not permissions.can_view_any(request.user):
        if request.session.get(SESSION_KEY) is not None:
            request.session.flush()  # revoked: forget it, so the screen shows the refusal
        if request.user.is_authenticated:
            raise PermissionDenied
        return _denied(request)
    if screen is not None:
        WallScreen.objects.filter(pk=screen.pk).update(last_seen_at=timezone.now())
    _speak(request, screen)
    rotate = _rotate(request)
    link_theme = _link_theme(request)
    config = siteconfig.get_config()
    if screen is not None:
        settings = screen.settings()
        next_id = screen.following(dashboard_id, _known(config))
        seconds = rotate or screen.page_seconds
        rotation = screen.dashboards(_known(config))
    else:
        # A signed-in viewer previews: `?rotate=` turns through every dashboard.
        # `?sound=1` asks for sound on a preview (a screen's record decides its own).
        settings = {"theme": "dark", "pause_on_alarm": True,
                    "sound": params.choice(request.GET, "sound", ["0", "1"]) == "1",
                    "sound_priority": 5}
        ids = [d.id for d in config.dashboards]
        known = rotate and dashboard_id in ids
        next_id = ids[(ids.index(dashboard_id) + 1) % len(ids)] if known else ""
        seconds = rotate or PREVIEW_PAGE_SECONDS
        rotation = ids if rotate else []
    return render_page(
        request,
        "wall",
        dashboard_id,
        layouts.Viewer.for_wall(config),
        extra={
            **settings,
            "ui_theme": link_theme or settings["theme"],
            "page_seconds": seconds,
            "next_url": _wall_url(request, "wall", next_id) if next_id else "",
            "settings_url": _wall_url(request, "wall-settings", dashboard_id) if screen else "",
            "dashboards_json": json.dumps(_dashboards(request, config, rotation)),
        },
    )


def _denied(request) -> HttpResponse:
    """The refusal a screen without a valid token shows, in the language its link asks for."""
    _speak(request, None)
    return render(request, "pages/wall_denied.html", status=403)


def _link_theme(request) -> str:
    """`?theme=` in the screen's address: it overrides the screen's own theme (a link for one
    screen of a control room); empty when absent."""
    return params.choice(request.GET, "theme", themes.CHOICES)


def _known(config) -> set[str]:
    return {board.id for board in config.dashboards}


def _rotate(request) -> int:
    """Seconds per page from `?rotate=` (it overrides the screen's own), 0 when absent."""
    seconds = params.whole_number(request.GET, "rotate", minimum=MIN_ROTATE_SECONDS,
                                  maximum=MAX_ROTATE_SECONDS, default=0)
    return seconds or 0


def _dashboards(request, config, ids: list[str]) -> list[dict]:
    """The screen's dashboards with the sites each shows: where to go when a priority-1
    alarm holds the rotation (wall.js)."""
    viewer = layouts.Viewer.for_wall(config)
    found = []
    for board_id in ids:
        layout = layouts.dashboard(config, viewer, board_id)
        if layout is not None:
            found.append({"id": board_id, "url": _wall_url(request, "wall", board_id),
                          "sites": list(layout.sites)})
    return found


def _wall_url(request, name: str, dashboard_id: str) -> str:
    """A wall address with the query this page was opened with (rotate, transport, sound,
    theme, lang)."""
    kept = ("rotate", "transport", "sound", "theme", "lang")
    query = urlencode({k: request.GET[k] for k in kept if k in request.GET})
    return reverse(name, args=[dashboard_id]) + (f"?{query}" if query else "")


def wall_settings(request, dashboard_id: str) -> JsonResponse:
    """The screen's settings as they are now, asked for at each turn of its rotation: what
    the admin changed reaches the screen without anybody touching it."""
    screen = current_screen(request)
    if screen is None:
        return JsonResponse({"error": "This wall screen is not signed in."}, status=403)
    language = _speak(request, screen)
    rotate = _rotate(request)
    link_theme = _link_theme(request)
    config = siteconfig.get_config()
    return JsonResponse({
        "next": _wall_url(request, "wall", screen.following(dashboard_id, _known(config))),
        "page_seconds": rotate or screen.page_seconds,
        "theme": link_theme or screen.theme,
        # The language the screen's pages are drawn in now: wall.js reloads when it changed.
        "language": language,
        "pause_on_alarm": screen.pause_on_alarm,
        "sound": screen.sound,
        "sound_priority": screen.sound_priority,
        "dashboards": _dashboards(request, config, screen.dashboards(_known(config))),
    })
