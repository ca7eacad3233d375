"""Wall screens: a control-room screen signed in by a view-only token, no keyboard needed.

The token is accepted once (`?token=...`), the screen's id is kept in the session, and
every page load and stream connect checks that the screen has not been revoked.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone

from dashboard import layouts, params, permissions, siteconfig
from dashboard.models import WallScreen
from dashboard.views.pages import render_page

SESSION_KEY = "wall_screen_id"
# A wall screen runs for weeks; its session must outlive the desk's idle expiry.
WALL_SESSION_SECONDS = 400 * 24 * 3600
MIN_ROTATE_SECONDS = 5
MAX_ROTATE_SECONDS = 24 * 3600
TOKEN_MAX = 100  # issued tokens are 43 characters


def current_screen(request) -> WallScreen | None:
    screen_id = request.session.get(SESSION_KEY)
    if screen_id is None:
        return None
    return WallScreen.objects.filter(pk=screen_id, revoked_at__isnull=True).first()


def wall_screen_viewer(request, config) -> layouts.Viewer | None:
    """A signed-in viewer may preview a wall screen; otherwise the screen's token decides."""
    if current_screen(request) is not None or permissions.can_view_any(request.user):
        return layouts.Viewer.for_wall(config)
    return None


def wall(request, dashboard_id: str) -> HttpResponse:
    token = params.text(request.GET, "token", max_length=TOKEN_MAX)
    if token:
        screen = WallScreen.for_token(token)
        if screen is None:
            return render(request, "pages/wall_denied.html", status=403)
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
        return render(request, "pages/wall_denied.html", status=403)
    if screen is not None:
        WallScreen.objects.filter(pk=screen.pk).update(last_seen_at=timezone.now())
    rotate = params.whole_number(request.GET, "rotate", minimum=MIN_ROTATE_SECONDS,
                                 maximum=MAX_ROTATE_SECONDS, default=0)
    config = siteconfig.get_config()
    ids = [d.id for d in config.dashboards]
    next_id = ids[(ids.index(dashboard_id) + 1) % len(ids)] if dashboard_id in ids else ""
    return render_page(
        request,
        "wall",
        dashboard_id,
        layouts.Viewer.for_wall(config),
        extra={"rotate": rotate, "next_dashboard": next_id},
    )
