"""The process's one subscription to the change channel, and the freshness timer.

After the subscription's connection returns, the hub re-reads everything and every client
gets a snapshot: pub/sub lost whatever was published meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from dashboard.redis_client import async_redis
from wincc_ingest import store

log = logging.getLogger(__name__)


class Subscriber:
    """Calls `on_message(raw)` for each change message, `on_lost()` when Redis goes away,
    `on_back()` when it returns, and `on_tick()` every `tick_seconds`."""

    def __init__(
        self,
        redis_url: str,
        *,
        on_message: Callable[[str], Awaitable[None]],
        on_lost: Callable[[], Awaitable[None]],
        on_back: Callable[[], Awaitable[None]],
        on_tick: Callable[[], Awaitable[None]],
        tick_seconds: float,
    ) -> None:
        self.redis_url = redis_url
        self._on_message = on_message
        self._on_lost = on_lost
        self._on_back = on_back
        self._on_tick = on_tick
        self.tick_seconds = tick_seconds
        self.subscribed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def start(self) -> None:
        self.subscribed.clear()
        self._tasks = [
            asyncio.create_task(self._listen(), name="live-hub-listen"),
            asyncio.create_task(self._tick(), name="live-hub-tick"),
        ]

    async def stop(self) -> None:
        # Taken before any await: a stream opening meanwhile starts a fresh subscriber.
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _listen(self) -> None:
        backoff = 0.5
        lost = False
        redis = async_redis(self.redis_url)
        try:
            while True:
                pubsub = redis.pubsub(ignore_subscribe_messages=True)
                try:
                    await pubsub.subscribe(store.CHANGES_CHANNEL)
                    self.subscribed.set()
                    if lost:
                        await self._on_back()
                        lost = False
                    backoff = 0.5
                    while True:
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=5.0
                        )
                        if message is not None:
                            await self._on_message(message["data"])
                except (RedisError, OSError) as exc:
                    log.warning("live hub lost Redis (%s); retrying in %.1f s", exc, backoff)
                    lost = True
                    self.subscribed.set()  # let streams open meanwhile; they show Redis lost
                    await self._on_lost()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                finally:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
        finally:
            await redis.aclose()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            await self._on_tick()
