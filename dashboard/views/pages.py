"""The pages: overview, dashboards, alarm list, site health.

Each page renders its fragments inline from one Redis pipeline read, then keeps them live
over the page's one SSE stream, or by polling `?transport=poll` for networks whose
proxies break SSE.
"""

from __future__ import annotations

import json
import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from dashboard import layouts, params, permissions, siteconfig
from dashboard.live.frames import SEEN_MAX, frame_digest, sse_frame
from dashboard.panels import renderers
from dashboard.panels.fragments import site_reads
from dashboard.panels.state import SiteState, read_states
from dashboard.redis_client import sync_redis
from wincc_bridge.models import utcnow
from wincc_ingest import codec
from wincc_ingest.config import Config, ConfigError

log = logging.getLogger(__name__)

TRANSPORTS = ("sse", "poll")


def read_page(layout: layouts.Layout, config: Config):
    """(fragment html by name, pulses, now) for a layout, from one pipeline read."""
    now = utcnow()
    reads = site_reads(layout.fragments)
    redis_ok = True
    try:
        states = read_states(sync_redis(), config, reads, now)
    except redis.RedisError:
        redis_ok = False
        states = {
            r.site: SiteState(config=config.known_site(r.site))
            for r in reads if config.site(r.site) is not None
        }
    ctx = renderers.RenderContext(config, states, now, redis_ok)
    html = {f.name: renderers.render(f, ctx) for f in layout.fragments}
    pulses = [renderers.pulse(state, now) for state in states.values()]
    return html, pulses, now


def _live_urls(page: str, arg: str, query: QueryDict, seen: str) -> tuple[str, str]:
    args = [page, arg] if arg else [page]
    poll_query = query.urlencode()
    if seen:
        query = query.copy()
        query["seen"] = seen
    stream_query = query.urlencode()
    return (
        reverse("live-stream", args=args) + (f"?{stream_query}" if stream_query else ""),
        reverse("live-poll", args=args) + (f"?{poll_query}" if poll_query else ""),
    )


def seen_digests(layout: layouts.Layout, html: dict[str, str]) -> str:
    """The digests of the frames the page shows, as its stream's `?seen=`: the stream's
    first snapshot leaves out what is the same (views/stream.py). Digested as the hub
    sends them, so an unchanged fragment matches byte for byte."""
    if len(layout.fragments) > SEEN_MAX:
        return ""
    return "".join(frame_digest(sse_frame(f.name, html[f.name])) for f in layout.fragments)


def page_layout(request, page: str, arg: str, viewer: layouts.Viewer) -> layouts.Layout:
    """The layout a page, its stream and its poll share, in the request's language. Http404
    for an unknown page or dashboard; params.BadParameter, a plain sentence, for a filter
    that names nothing."""
    if page not in layouts.PAGES:
        raise Http404(_("There is no such page."))
    layout = layouts.for_page(page, arg, siteconfig.get_config(), viewer, request.GET)
    if layout is None:
        raise Http404(_("There is no such dashboard in the configuration."))
    return in_language(request, layout)


def in_language(request, layout: layouts.Layout) -> layouts.Layout:
    """`layout` with its fragments in the request's language: the page, its stream and its
    poll ask for the same variant, so the stream's frames match what the page shows."""
    return layout.speaking(getattr(request, "LANGUAGE_CODE", "") or translation.get_language())


def page_context(request, page: str, arg: str, layout: layouts.Layout, viewer: layouts.Viewer,
                 query: QueryDict) -> dict:
    """What base.html needs to show a page's fragments and keep them live over its stream
    (`query`: the filters the stream's layout reads)."""
    config = siteconfig.get_config()
    layout = in_language(request, layout)
    query = query.copy()
    try:
        transport = params.choice(request.GET, "transport", TRANSPORTS, default="sse")
    except params.BadParameter:
        if page != "banner":
            raise
        transport = "sse"  # the page's own parameters are not the banner's to refuse
    query.pop("transport", None)
    query.pop("rotate", None)
    query.pop("seen", None)
    html, pulses, now = read_page(layout, config)
    seen = seen_digests(layout, html) if transport == "sse" else ""
    stream_url, poll_url = _live_urls(page, arg, query, seen)
    sections = [
        {"title": s.title, "kind": s.kind, "parts": [(f, html[f.name]) for f in s.fragments]}
        for s in layout.sections
    ]
    return {
        "page": page,
        "layout": layout,
        # Tiles open a trend overlay: such a page loads the trend's script (templates/base.html).
        "has_tiles": any(f.kind == "tile" for f in layout.fragments),
        "sections": sections,
        "header": {f.kind: (f, html[f.name]) for f in layout.header},
        "transport": transport,
        "stream_url": stream_url,
        # The events the stream sends, held by templates/partials/live_start.js until htmx
        # takes the stream over.
        "live_events": " ".join(["snapshot", "pulse", "keepalive",
                                 *dict.fromkeys(f.name for f in layout.fragments)]),
        "poll_url": poll_url,
        "pulses": json.dumps(pulses),
        "server_now": codec.iso(now),
        "keepalive": settings.LIVE_KEEPALIVE_SECONDS,
        "dashboards": config.dashboards,
        "viewer": viewer,
        "filters": request.GET,
        "choices": layouts.FILTER_CHOICES,
        "site_choices": [(s, config.known_site(s).name) for s in viewer.visible],
    }


def render_page(request, page: str, arg: str, viewer: layouts.Viewer, extra=None):
    layout = page_layout(request, page, arg, viewer)
    context = page_context(request, page, arg, layout, viewer, request.GET)
    context.update(extra or {})
    template = "pages/wall.html" if page == "wall" else f"pages/{page}.html"
    return render(request, template, context)


def with_banner(request, context: dict) -> dict:
    """`context` with the live annunciation banner of every site the person sees, for a page
    that has no layout of its own (audit log, integrations, an alarm occurrence, 404, 403):
    the banner is on every page. Nothing is added for a person who sees no site."""
    user = getattr(request, "user", None)
    if user is None or not permissions.can_view_any(user):
        return context
    try:
        config = siteconfig.get_config()
    except ConfigError as exc:
        # The audit log stays readable while the plant's configuration is being mended.
        log.warning("no annunciation banner on %s: %s", request.path, exc)
        return context
    viewer = layouts.Viewer.for_user(user, config)
    layout = layouts.banner(viewer)
    return {**page_context(request, "banner", "", layout, viewer, QueryDict()), **context}


def _viewer(request) -> layouts.Viewer:
    if not permissions.can_view_any(request.user):
        raise PermissionDenied
    return layouts.Viewer.for_user(request.user, siteconfig.get_config())


@login_required
def overview(request):
    return render_page(request, "overview", "", _viewer(request))


@login_required
def dashboard(request, dashboard_id: str):
    return render_page(request, "dashboard", dashboard_id, _viewer(request))


@login_required
def alarms(request):
    return render_page(request, "alarms", "", _viewer(request))


@login_required
def sites(request):
    return render_page(request, "sites", "", _viewer(request))
