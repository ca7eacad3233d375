"""The live hub: ONE Redis subscriber per web process (per event loop), fanning out SSE frames.

On each change message it reads the changed site's keys once, renders every affected
fragment once per variant, and puts the same pre-encoded bytes on the bounded queue of
every client watching it. A client that cannot keep up gets a fresh snapshot instead of a
backlog. A timer re-reads the sites' health every second: a stopped poller publishes
nothing, yet its tiles must turn stale. After the subscriber's Redis connection returns,
everything is re-read and every client gets a snapshot (pub/sub lost what came meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from datetime import datetime

import redis.asyncio as aioredis
from django.conf import settings
from redis.exceptions import RedisError

from dashboard import siteconfig
from dashboard.panels import (
    TREND_SAMPLES,
    Fragment,
    Freshness,
    RenderContext,
    SiteState,
    apply_site_reads,
    parse_trend,
    pulse,
    queue_site_reads,
    render,
)
from wincc_bridge.models import utcnow
from wincc_ingest import store

log = logging.getLogger(__name__)

RESYNC = b""  # put on a client's queue when it fell behind: it gets a snapshot instead


def sse_frame(event: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n".encode()


def keepalive_frame(now: datetime) -> bytes:
    # A comment keeps proxies from timing out; the event lets the page's watchdog see it.
    return f": keepalive\nevent: keepalive\ndata: {store.iso(now)}\n\n".encode()


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


class LiveHub:
    def __init__(self, redis_url: str | None = None) -> None:
        self.redis_url = redis_url or settings.REDIS_URL
        self.tick_seconds = settings.LIVE_TICK_SECONDS
        self.queue_size = settings.LIVE_CLIENT_QUEUE
        self.clients: set[Client] = set()
        self.watchers: dict[Fragment, set[Client]] = {}
        self.site_clients: dict[str, set[Client]] = {}
        self.states: dict[str, SiteState] = {}
        self.freshness: dict[str, Freshness] = {}
        self.frames: dict[Fragment, bytes] = {}
        self.pulses: dict[str, bytes] = {}
        self.redis_ok = True
        self.renders = 0  # fragments rendered, for tests and diagnostics
        self._redis: aioredis.Redis | None = None
        self._tasks: list[asyncio.Task] = []
        self._subscribed = asyncio.Event()
        self._lock = asyncio.Lock()

    # --- clients ---------------------------------------------------------------------

    async def connect(self, fragments: list[Fragment]) -> Client:
        """Register a stream; its first frame should be `snapshot(client)`."""
        client = Client(fragments, self.queue_size)
        # Counted at once, so another stream leaving meanwhile does not stop the hub.
        self.clients.add(client)
        try:
            if not self._tasks:
                self._start()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await self._subscribed.wait()
            async with self._lock:
                # A site is (re)read when new, or when this client shows a trend nobody
                # watched (trends are only kept current for watched tags).
                stale_trends = {
                    site for f in fragments for site in f.sites
                    if site in self.states and not set(f.trend_tags) <= self._trend_tags(site)
                }
                await self._load(
                    [s for s in client.sites if s not in self.states or s in stale_trends]
                )
                for fragment in fragments:
                    self.watchers.setdefault(fragment, set()).add(client)
                for site in client.sites:
                    self.site_clients.setdefault(site, set()).add(client)
        except BaseException:
            await self.disconnect(client)
            raise
        return client

    async def disconnect(self, client: Client) -> None:
        self.clients.discard(client)
        for fragment in client.fragments:
            watching = self.watchers.get(fragment)
            if watching is not None:
                watching.discard(client)
                if not watching:
                    del self.watchers[fragment]
                    self.frames.pop(fragment, None)
        for site in client.sites:
            watching = self.site_clients.get(site)
            if watching is not None:
                watching.discard(client)
                if not watching:
                    del self.site_clients[site]
                    self.states.pop(site, None)
                    self.freshness.pop(site, None)
                    self.pulses.pop(site, None)
        if not self.clients:
            await self.stop()

    def snapshot(self, client: Client) -> bytes:
        """Every fragment of the client's page and its sites' pulses, from the shared cache."""
        missing = [f for f in client.fragments if f not in self.frames]
        if missing:
            self._render(missing, send=False)
        parts = [self.frames[f] for f in client.fragments]
        parts += [self.pulses[s] for s in client.sites if s in self.pulses]
        return b"".join(parts)

    # --- background tasks --------------------------------------------------------------

    def _start(self) -> None:
        self._redis = aioredis.from_url(
            self.redis_url, decode_responses=True, socket_timeout=5, socket_connect_timeout=2
        )
        self._subscribed.clear()
        self._tasks = [
            asyncio.create_task(self._listen(), name="live-hub-listen"),
            asyncio.create_task(self._tick(), name="live-hub-tick"),
        ]

    async def stop(self) -> None:
        # Taken before any await: a stream opening meanwhile starts a fresh subscriber.
        tasks, self._tasks = self._tasks, []
        client, self._redis = self._redis, None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if client is not None:
            await client.aclose()

    async def _listen(self) -> None:
        backoff = 0.5
        lost = False
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(store.CHANGES_CHANNEL)
                self._subscribed.set()
                if lost:
                    await self._resync_all()
                    lost = False
                backoff = 0.5
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                    if message is not None:
                        await self._on_change_safely(message["data"])
            except (RedisError, OSError) as exc:
                log.warning("live hub lost Redis (%s); retrying in %.1f s", exc, backoff)
                lost = True
                self._subscribed.set()  # let streams open meanwhile; they show Redis lost
                await self._set_redis_ok(False)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            try:
                await self._refresh_health()
            except (RedisError, OSError):
                await self._set_redis_ok(False)
            except Exception:
                log.exception("live hub: health refresh failed")

    # --- reading Redis ------------------------------------------------------------------

    def _trend_tags(self, site: str) -> set[str]:
        return {t for f in self.watchers if site in f.sites for t in f.trend_tags}

    async def _load(self, sites: list[str]) -> None:
        if not sites:
            return
        config = siteconfig.get_config()
        now = utcnow()
        plan = []
        pipe = self._redis.pipeline(transaction=False)
        for site_id in sites:
            site = config.site(site_id)
            if site is None:
                continue
            tags = {t.name for t in site.tags}
            plan.append((SiteState(site), queue_site_reads(pipe, site, tags)))
        try:
            results = await pipe.execute()
        except (RedisError, OSError):
            self.redis_ok = False
            results = None
        offset = 0
        for state, parts in plan:
            if results is not None:
                apply_site_reads(state, parts, results[offset : offset + len(parts)], now)
                offset += len(parts)
            self.states[state.config.id] = state
            self.freshness[state.config.id] = state.freshness(now, self.redis_ok)
            self.pulses[state.config.id] = self._pulse(state, now)

    async def _resync_all(self) -> None:
        async with self._lock:
            sites = list(self.states)
            self.states.clear()
            self.redis_ok = True
            await self._load(sites)
            self._render(list(self.watchers), send=False)
            for client in self.clients:
                client.request_resync()

    async def _on_change_safely(self, raw: str) -> None:
        try:
            await self._on_change(raw)
        except (RedisError, OSError):
            raise
        except Exception:
            # One bad entry must not end the only subscriber of the process.
            log.exception("live hub: a change message could not be applied")

    async def _on_change(self, raw: str) -> None:
        try:
            change = json.loads(raw)
            site_id = change["site"]
            tags = [str(t) for t in change.get("tags") or []]
        except (ValueError, KeyError, TypeError):
            log.warning("live hub: ignoring a malformed change message %r", raw[:200])
            return
        async with self._lock:
            state = self.states.get(site_id)
            if state is None:
                return  # nobody watches this site
            now = utcnow()
            watched = self._trend_tags(site_id)
            pipe = self._redis.pipeline(transaction=False)
            if tags:
                pipe.hmget(store.site_values(site_id), tags)
            trend_tags = [t for t in tags if t in watched]
            for tag in trend_tags:
                pipe.lrange(store.site_trend(site_id, tag), 0, TREND_SAMPLES - 1)
            parts = queue_site_reads(
                pipe, state.config, (), values=False,
                alarms=bool(change.get("alarms")), health=bool(change.get("health")),
            )
            results = await pipe.execute()
            if self.states.get(site_id) is not state:
                return  # its last watcher left while we read
            if tags:
                for tag, raw_value in zip(tags, results.pop(0), strict=True):
                    if raw_value is None:
                        state.values.pop(tag, None)
                    else:
                        state.values.update(store.decode_values(site_id, {tag: raw_value}, now))
            for tag in trend_tags:
                state.trends[tag] = parse_trend(results.pop(0))
            apply_site_reads(state, parts, results, now)
            changed_tags = set(tags)
            affected = [
                f for f in self.watchers
                if site_id in f.sites
                and (
                    (f.watches_values and changed_tags.intersection(f.tags))
                    or (f.watches_alarms and change.get("alarms"))
                )
            ]
            self._render(affected)
            if change.get("health"):
                self._health_changed(site_id, now)

    async def _refresh_health(self) -> None:
        async with self._lock:
            sites = list(self.states)
            if not sites:
                return
            pipe = self._redis.pipeline(transaction=False)
            for site in sites:
                pipe.hgetall(store.site_health(site))
            results = await pipe.execute()
            now = utcnow()
            if not self.redis_ok:
                self.redis_ok = True
            for site, mapping in zip(sites, results, strict=True):
                state = self.states.get(site)
                if state is None:
                    continue  # its last watcher left while we read
                apply_site_reads(state, ["health"], [mapping], now)
                self._health_changed(site, now)

    async def _set_redis_ok(self, ok: bool) -> None:
        if self.redis_ok == ok:
            return
        self.redis_ok = ok
        now = utcnow()
        for site in list(self.states):
            self._health_changed(site, now)

    # --- rendering and fan-out ------------------------------------------------------------

    def _pulse(self, state: SiteState, now: datetime) -> bytes:
        return sse_frame("pulse", json.dumps(pulse(state, now), separators=(",", ":")))

    def _health_changed(self, site_id: str, now: datetime) -> None:
        """Re-render what shows the site's health; everything of the site if freshness flipped."""
        state = self.states[site_id]
        old_pulse = self.pulses.get(site_id)
        frame = self._pulse(state, now)
        # The pulse carries the server time too; only a new poll result is news.
        if old_pulse is None or _pulse_key(old_pulse) != _pulse_key(frame):
            self.pulses[site_id] = frame
            for client in self.site_clients.get(site_id, ()):
                client.offer(frame)
        fresh = state.freshness(now, self.redis_ok)
        flipped = self.freshness.get(site_id) != fresh
        self.freshness[site_id] = fresh
        kinds = {"status", "health", "summary"}
        if flipped:
            kinds |= {"tile", "trend", "alarms"}
        self._render([f for f in self.watchers if site_id in f.sites and f.kind in kinds], now=now)

    def _render(self, fragments, *, send: bool = True, now: datetime | None = None) -> None:
        if not fragments:
            return
        ctx = RenderContext(
            siteconfig.get_config(), self.states, now or utcnow(), self.redis_ok
        )
        for fragment in fragments:
            if any(s not in self.states for s in fragment.sites):
                continue
            frame = sse_frame(fragment.name, render(fragment, ctx))
            self.renders += 1
            if self.frames.get(fragment) == frame:
                continue
            self.frames[fragment] = frame
            if send:
                for client in self.watchers.get(fragment, ()):
                    client.offer(frame)


def _pulse_key(frame: bytes) -> bytes:
    # Everything but the trailing "now" field.
    return frame.split(b',"now"', 1)[0]


_HUBS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveHub] = weakref.WeakKeyDictionary()


def get_hub() -> LiveHub:
    """The hub of the running event loop: one per web process under an ASGI server."""
    loop = asyncio.get_running_loop()
    hub = _HUBS.get(loop)
    if hub is None:
        hub = _HUBS[loop] = LiveHub()
    return hub
