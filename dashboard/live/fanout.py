"""The fan-out: who watches which fragment, each fragment's last frame, the clients' queues.

Each fragment is rendered once per change and its bytes are put on the bounded queue of
every client watching it. A client that cannot keep up gets a fresh snapshot instead of a
backlog.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

from dashboard.live.frames import frame_digest, pulse_frame, sse_frame
from dashboard.metrics.web import RENDER_SECONDS
from dashboard.panels.fragments import Fragment
from dashboard.panels.renderers import RenderContext, pulse, render
from dashboard.panels.state import SiteState

RESYNC = b""  # put on a client's queue when it fell behind: it gets a snapshot instead


class Client:
    """One open stream: the fragments it shows and its bounded queue of frames."""

    __slots__ = ("fragments", "queue", "resync", "sites")

    def __init__(self, fragments: list[Fragment], maxsize: int) -> None:
        self.fragments = fragments
        self.sites = {site for f in fragments for site in f.sites}
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize)
        self.resync = False

    def offer(self, frame: bytes) -> None:
        if self.resync:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.request_resync()

    def request_resync(self) -> None:
        """Drop what is queued: the stream sends a fresh snapshot instead."""
        if self.resync:
            return
        while not self.queue.empty():
            self.queue.get_nowait()
        self.resync = True
        self.queue.put_nowait(RESYNC)


class FanOut:
    def __init__(self) -> None:
        self.clients: set[Client] = set()
        self.watchers: dict[Fragment, set[Client]] = {}
        self.site_clients: dict[str, set[Client]] = {}
        self.frames: dict[Fragment, bytes] = {}
        # One Fragment object for all the clients that watch equal ones: each stream's page
        # makes its own, and thousands of streams of one dashboard would hold as many copies.
        self._same: dict[Fragment, Fragment] = {}
        self.pulses: dict[str, bytes] = {}
        # What a pulse says apart from the server's time: only a new poll result is news.
        self._pulse_news: dict[str, tuple[object, ...]] = {}
        self.renders = 0  # fragments rendered, for tests and diagnostics

    def watch(self, client: Client) -> None:
        client.fragments = [self._same.setdefault(f, f) for f in client.fragments]
        for fragment in client.fragments:
            self.watchers.setdefault(fragment, set()).add(client)
        for site in client.sites:
            self.site_clients.setdefault(site, set()).add(client)

    def forget(self, client: Client) -> list[str]:
        """Stop serving `client`; return the sites nobody watches any more."""
        self.clients.discard(client)
        for fragment in client.fragments:
            if _unwatch(self.watchers, fragment, client):
                self.frames.pop(fragment, None)
                self._same.pop(fragment, None)
        unwatched = [site for site in client.sites if _unwatch(self.site_clients, site, client)]
        for site in unwatched:
            self.pulses.pop(site, None)
            self._pulse_news.pop(site, None)
        return unwatched

    def trend_tags(self, site: str) -> set[str]:
        """The tags of `site` whose small trend some watched fragment draws."""
        return {t for f in self.watchers if site in f.sites for t in f.trend_tags}

    def fragments_of(self, site: str) -> list[Fragment]:
        return [f for f in self.watchers if site in f.sites]

    def render(self, fragments: Iterable[Fragment], ctx: RenderContext, *, send: bool = True
               ) -> None:
        for fragment in fragments:
            if any(s not in ctx.states for s in fragment.sites):
                continue
            with RENDER_SECONDS.time():
                frame = sse_frame(fragment.name, render(fragment, ctx))
            self.renders += 1
            if self.frames.get(fragment) == frame:
                continue
            self.frames[fragment] = frame
            if send:
                for client in self.watchers.get(fragment, ()):
                    client.offer(frame)

    def snapshot(
        self, client: Client, ctx: RenderContext, seen: Sequence[str] = ()
    ) -> list[bytes]:
        """Every fragment of the client's page and its sites' pulses, from the shared cache:
        the shared frames themselves, so each is compressed once (dashboard/live/gzipped.py).

        `seen`: the digests of the frames the freshly loaded page shows, one a fragment in
        layout order; a fragment whose frame is the same is left out. Any other length
        (the layout changed meanwhile) counts as nothing seen."""
        missing = [f for f in client.fragments if f not in self.frames]
        if missing:
            self.render(missing, ctx, send=False)
        if len(seen) != len(client.fragments):
            seen = [""] * len(client.fragments)
        parts = [
            self.frames[f] for f, digest in zip(client.fragments, seen, strict=True)
            if f in self.frames and frame_digest(self.frames[f]) != digest
        ]
        parts += [self.pulses[s] for s in client.sites if s in self.pulses]
        return parts

    def pulse(self, state: SiteState, ctx: RenderContext) -> None:
        """Send the site's pulse to its watchers when a poll result is news."""
        site = state.config.id
        data = pulse(state, ctx.now)
        news = (data["confirmed"], data["latency_ms"])
        if self._pulse_news.get(site) == news and site in self.pulses:
            return
        frame = pulse_frame(data)
        self._pulse_news[site] = news
        self.pulses[site] = frame
        for client in self.site_clients.get(site, ()):
            client.offer(frame)

    def resync_everyone(self) -> None:
        for client in self.clients:
            client.request_resync()


def _unwatch(watchers: dict, key: object, client: Client) -> bool:
    """Remove `client` from the watchers of `key`; True when nobody watches it any more."""
    watching = watchers.get(key)
    if watching is None:
        return False
    watching.discard(client)
    if watching:
        return False
    del watchers[key]
    return True
