"""The live transports: one async SSE stream per page, fed by the process's live hub, and
the polling fallback (`?transport=poll`) for networks whose proxies break SSE.

Rights are checked once, when the stream opens; the loop then only moves bytes the hub
rendered. A stream ends after LIVE_STREAM_MAX_SECONDS so the browser reconnects and the
rights (and a wall screen's token) are checked again.

A reconnect storm (every browser at once, after a restart) is admitted a few streams at a
time (dashboard/live/admission.py); the rights check is one trip to a thread, and a
viewer's rights, once read, serve that viewer's streams for LIVE_RIGHTS_SECONDS.
"""

from __future__ import annotations

import asyncio
import json

from asgiref.sync import sync_to_async
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from dashboard import layouts, permissions, siteconfig
from dashboard.live import Client, LiveHub, get_hub, keepalive_frame
from dashboard.live.admission import Overloaded, jittered
from dashboard.live.frames import DIGEST_CHARS, SEEN_MAX, retry_frame, snapshot_id_frame
from dashboard.live.gzipped import GzipStream, accepts_gzip
from dashboard.views import pages
from dashboard.views.wall import wall_screen_viewer
from wincc_bridge.models import utcnow


def viewer_for(request, page: str) -> layouts.Viewer | None:
    """The viewer of a page or stream, or None when the request may not see it (sync, DB)."""
    config = siteconfig.get_config()
    if page == "wall":
        return wall_screen_viewer(request, config)
    return _user_viewer(request.user, config)


def _user_viewer(user, config) -> layouts.Viewer | None:
    """A person's rights, read once per LIVE_RIGHTS_SECONDS: a storm of one viewer's
    streams (a control room's wall screens) reads the permissions once, not once each."""
    if not user.is_authenticated:
        return None
    key = f"live-rights:{user.pk}:{id(config)}"
    found = cache.get(key)
    if found is not None:
        return found or None
    viewer = layouts.Viewer.for_user(user, config) if permissions.can_view_any(user) else None
    cache.set(key, viewer or False, settings.LIVE_RIGHTS_SECONDS)
    return viewer


def _text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain")


def live_layout(request, page: str, arg: str) -> layouts.Layout | HttpResponse:
    """The layout a stream or a poll serves, or the refusal to answer (sync: reads rights)."""
    # A stream or a poll answers a script, not a person: its refusals are plain text.
    if page not in layouts.PAGES:
        return _text(_("There is no such page."), 404)
    viewer = viewer_for(request, page)
    if viewer is None:
        return _text(_("You may not watch this page."), 403)
    try:
        return pages.page_layout(request, page, arg, viewer)  # a bad filter: BadParameter, 400
    except Http404 as exc:
        return _text(str(exc), 404)


class SeenForm(forms.Form):
    """`?seen=`: the digests of the frames a freshly loaded page shows, in layout order."""

    seen = forms.RegexField(
        regex=rf"\A(?:[A-Za-z0-9_-]{{{DIGEST_CHARS}}})+\Z",
        max_length=DIGEST_CHARS * SEEN_MAX,
    )


def seen_frames(request) -> list[str]:
    """What the page already shows, or nothing. A reconnect names the snapshot it had
    (Last-Event-ID): its page may show newer frames than it was rendered with, so it gets
    everything; so does any `seen` that does not parse (never an error: it only saves bytes)."""
    if "Last-Event-ID" in request.headers:
        return []
    form = SeenForm(request.GET)
    if not form.is_valid():
        return []
    value = form.cleaned_data["seen"]
    return [value[i:i + DIGEST_CHARS] for i in range(0, len(value), DIGEST_CHARS)]


async def stream(request, page: str, arg: str = "") -> HttpResponse | StreamingHttpResponse:
    hub = get_hub()
    seen = seen_frames(request)
    try:
        async with hub.admission.slot():
            # One trip to a thread: the session, the user and the rights together.
            layout = await sync_to_async(live_layout)(request, page, arg)
            if isinstance(layout, HttpResponse):
                return layout
            client = await hub.connect(layout.fragments)
    except Overloaded:
        return overloaded()
    gz = GzipStream() if accepts_gzip(request.headers.get("Accept-Encoding", "")) else None
    response = StreamingHttpResponse(
        events(hub, client, seen, gz), content_type="text/event-stream; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    if gz is not None:
        response["Content-Encoding"] = "gzip"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


async def events(
    hub: LiveHub, client: Client, seen: list[str] | None = None, gz: GzipStream | None = None
):
    """Snapshot first (less what the page already shows, `seen`), then whatever the hub
    queues; keepalives while nothing happens. A resync's snapshot is always the full one.
    With `gz`, gzip-compressed, each frame as it comes (dashboard/live/gzipped.py).

    Django's response loop holds the last chunk it sent until the next one comes, for as
    long as the stream is open. A chunk of several frames is this stream's own copy (the
    frames joined), so each is followed by an empty chunk (nothing goes on the wire), and
    nothing else of a sent chunk stays in this generator either: at thousands of streams
    those copies were the larger part of a stream's memory (docs/live.md)."""

    def wire(frames: list[bytes], own: bytes = b"") -> bytes:
        if gz is not None:
            return gz.encode(frames, own=[own] if own else [])
        return own + b"".join(frames)

    keepalive = settings.LIVE_KEEPALIVE_SECONDS
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.LIVE_STREAM_MAX_SECONDS
    try:
        retry = jittered(settings.LIVE_RETRY_MS, settings.LIVE_RETRY_JITTER_MS)
        # The id comes first: any frame the page swaps in is preceded by it, so any
        # reconnect after one names it and gets the full snapshot.
        yield wire(hub.snapshot(client, seen or ()),
                   own=retry_frame(retry) + snapshot_id_frame())
        seen = None  # only the first snapshot leaves anything out
        yield b""
        while loop.time() < deadline:
            try:
                async with asyncio.timeout(keepalive):
                    frames = await _queued(hub, client)
            except TimeoutError:
                yield wire([], own=keepalive_frame(utcnow()))
                continue
            chunk = wire(frames)
            frames = []
            yield chunk
            chunk = b""
            yield chunk
        if gz is not None:
            yield gz.end()
    finally:
        # Also on asyncio.CancelledError (the browser went away), which propagates.
        await hub.disconnect(client)


async def _queued(hub: LiveHub, client: Client) -> list[bytes]:
    """What the hub queued for `client`; after a resync, a fresh snapshot."""
    frames = [await client.queue.get()]
    while not client.queue.empty():
        frames.append(client.queue.get_nowait())
    if client.resync:
        client.resync = False
        while not client.queue.empty():
            client.queue.get_nowait()
        return hub.snapshot(client)
    return frames


def overloaded() -> HttpResponse:
    """503 with a randomised Retry-After: this stream is refused for now, not for good."""
    response = _text(_("The live view is busy; the page reconnects by itself."), 503)
    wait_ms = jittered(settings.LIVE_RETRY_MS, settings.LIVE_RETRY_JITTER_MS)
    response["Retry-After"] = str(-(-wait_ms // 1000))
    response["Cache-Control"] = "no-store"
    return response


def poll(request, page: str, arg: str = ""):
    """The polling fallback: every fragment of the page as out-of-band swaps, plus pulses."""
    layout = live_layout(request, page, arg)
    if isinstance(layout, HttpResponse):
        return layout
    html, pulses, _ = pages.read_page(layout, siteconfig.get_config())
    body = format_html_join(
        "", '<div id="{}" hx-swap-oob="innerHTML">{}</div>',
        ((name, content) for name, content in html.items()),
    ) + format_html('<template id="pulses" hx-swap-oob="true" data-pulses="{}"></template>',
                    json.dumps(pulses))
    response = HttpResponse(body)
    response["Cache-Control"] = "no-store"
    return response
