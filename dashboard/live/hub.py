"""The hub: one subscriber, one site cache and one fan-out per web process (event loop).

On each change message the cache reads what changed once; every fragment that reacts to
it is rendered once per variant, and the fan-out puts the same bytes on the queue of every
client watching it. The timer re-reads the sites' health every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime

import redis.asyncio as aioredis
from django.conf import settings
from redis.exceptions import RedisError

from dashboard import siteconfig
from dashboard.live.admission import Admission
from dashboard.live.cache import SiteCache
from dashboard.live.fanout import Client, FanOut
from dashboard.live.subscriber import Subscriber
from dashboard.metrics.web import LIVE_STREAMS
from dashboard.panels.fragments import Fragment, SiteEvent, site_reads
from dashboard.panels.renderers import RenderContext
from dashboard.redis_client import async_redis
from wincc_bridge.models import utcnow
from wincc_ingest import codec

log = logging.getLogger(__name__)


class LiveHub:
    def __init__(self, redis_url: str | None = None) -> None:
        self.redis_url = redis_url or settings.REDIS_URL
        self.queue_size = settings.LIVE_CLIENT_QUEUE
        self.cache = SiteCache()
        self.fanout = FanOut()
        self.subscriber = Subscriber(
            self.redis_url,
            on_message=self._on_message,
            on_lost=self._on_lost,
            on_back=self._on_back,
            on_tick=self._on_tick,
            tick_seconds=settings.LIVE_TICK_SECONDS,
        )
        self._redis: aioredis.Redis | None = None
        self._lock = asyncio.Lock()
        self.admission = Admission(
            settings.LIVE_ADMISSION_CONCURRENCY, settings.LIVE_ADMISSION_MAX_WAITING
        )

    @property
    def renders(self) -> int:
        return self.fanout.renders

    @property
    def running(self) -> bool:
        return self.subscriber.running

    # --- what a stream calls --------------------------------------------------------------

    async def connect(self, fragments: list[Fragment]) -> Client:
        """Register a stream; its first frame should be `snapshot(client)`."""
        client = Client(fragments, self.queue_size)
        # Counted at once, so another stream leaving meanwhile does not stop the hub.
        self.fanout.clients.add(client)
        LIVE_STREAMS.inc()
        try:
            if not self.subscriber.running:
                self._redis = async_redis(self.redis_url)
                self.subscriber.start()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await self.subscriber.subscribed.wait()
            async with self._lock:
                # A site is (re)read when new, or when this client draws a trend nobody
                # watched: trends are kept current only for watched tags.
                needed = {
                    site for site in client.sites
                    if site not in self.cache
                    or not {t for f in fragments if site in f.sites for t in f.trend_tags}
                    <= self.fanout.trend_tags(site)
                }
                reads = site_reads([*fragments, *self.fanout.watchers])
                await self._load(read for read in reads if read.site in needed)
                self.fanout.watch(client)
        except BaseException:
            await self.disconnect(client)
            raise
        return client

    async def disconnect(self, client: Client) -> None:
        if client in self.fanout.clients:
            LIVE_STREAMS.dec()
        for site in self.fanout.forget(client):
            self.cache.drop(site)
        if not self.fanout.clients:
            await self.stop()

    def snapshot(self, client: Client, seen: Sequence[str] = ()) -> list[bytes]:
        return self.fanout.snapshot(client, self._context(), seen)

    async def stop(self) -> None:
        redis, self._redis = self._redis, None
        await self.subscriber.stop()
        if redis is not None:
            await redis.aclose()

    # --- what the subscriber calls -----------------------------------------------------

    async def _on_message(self, raw: str) -> None:
        try:
            change = codec.decode_change(raw)
        except codec.StoredDataError:
            log.warning("live hub: ignoring a malformed change message %r", raw[:200])
            return
        try:
            async with self._lock:
                now = utcnow()
                watched = self.fanout.trend_tags(change.site)
                event = await self.cache.apply(self._redis, change, watched, now)
                if event is not None:
                    self._site_event(change.site, event, now)
        except (RedisError, OSError):
            raise  # the subscriber reconnects and everyone gets a snapshot
        except Exception:
            # One bad entry must not end the only subscriber of the process.
            log.exception("live hub: a change message could not be applied")

    async def _on_tick(self) -> None:
        try:
            async with self._lock:
                now = utcnow()
                events = await self.cache.refresh_health(self._redis, now)
                for site, event in events.items():
                    self._site_event(site, event, now)
        except (RedisError, OSError):
            await self._on_lost()
        except Exception:
            log.exception("live hub: health refresh failed")

    async def _on_lost(self) -> None:
        now = utcnow()
        for site, event in self.cache.set_redis_ok(False, now).items():
            self._site_event(site, event, now)

    async def _on_back(self) -> None:
        async with self._lock:
            reads = [
                read for read in site_reads(self.fanout.watchers) if read.site in self.cache
            ]
            self.cache.clear()
            self.cache.redis_ok = True
            await self._load(reads)
            self.fanout.render(list(self.fanout.watchers), self._context(), send=False)
            self.fanout.resync_everyone()

    # --- between the cache and the fan-out -------------------------------------------------

    def _context(self, now: datetime | None = None) -> RenderContext:
        return RenderContext(
            siteconfig.get_config(), self.cache.states, now or utcnow(), self.cache.redis_ok
        )

    async def _load(self, reads: Iterable[codec.SiteRead]) -> None:
        reads = list(reads)
        if not reads:
            return
        now = utcnow()
        await self.cache.load(self._redis, siteconfig.get_config(), reads, now)
        ctx = self._context(now)
        for read in reads:
            state = self.cache.states.get(read.site)
            if state is not None:
                self.fanout.pulse(state, ctx)

    def _site_event(self, site: str, event: SiteEvent, now: datetime) -> None:
        ctx = self._context(now)
        if event.health:
            self.fanout.pulse(self.cache.states[site], ctx)
        self.fanout.render(
            [f for f in self.fanout.fragments_of(site) if f.reacts_to(site, event)], ctx
        )


_HUBS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveHub] = weakref.WeakKeyDictionary()


def get_hub() -> LiveHub:
    """The hub of the running event loop: one per web process under an ASGI server."""
    loop = asyncio.get_running_loop()
    hub = _HUBS.get(loop)
    if hub is None:
        hub = _HUBS[loop] = LiveHub()
    return hub
