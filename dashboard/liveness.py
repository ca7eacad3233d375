"""Whether the beat, the workers and the subscriber run, from their heartbeats in Redis,
and whether each subscribed site's subscription is live: one reading for /health/ and
/metrics alike, so both count a worker or a subscription the same way.

A worker or the beat counts as running while its last heartbeat is younger than
dashboard.celery.seen_within (3 poll intervals of the most often polled site); a subscriber
process while its heartbeat is younger than 3 of its beats. A site configured
`"ingest": "subscribe"` is live while its subscriber holds store.site_subscriber, which it
does only while WinCC is heard from (wincc_ingest.subscriber).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis.asyncio as aioredis

from dashboard.celery import seen_within
from wincc_ingest import codec, store
from wincc_ingest.config import Config
from wincc_ingest.subscriber import HEARTBEAT_EVERY, subscribed_sites

SUBSCRIBER_SEEN_WITHIN = timedelta(seconds=3 * HEARTBEAT_EVERY)


@dataclass(frozen=True)
class Subscription:
    live: bool
    since: datetime | None  # when the live subscription began; None while not live


@dataclass(frozen=True)
class Liveness:
    beat: datetime | None  # the beat's last heartbeat, if Redis still holds one
    beat_running: bool
    workers: int  # workers with a recent heartbeat
    subscribers: int = 0  # subscriber processes with a recent heartbeat
    # Per site configured "ingest": "subscribe", by site id.
    subscriptions: dict[str, Subscription] = field(default_factory=dict)


async def read(client: aioredis.Redis, config: Config, now: datetime) -> Liveness:
    """Raises what the Redis client raises; the caller decides what Redis down means."""
    recent = timedelta(seconds=seen_within(config))
    beat = codec.decode_heartbeat(await client.get(store.BEAT_HEARTBEAT))
    workers = await _recent(client, store.worker_heartbeat_pattern(), now, recent)
    sites = subscribed_sites(config.sites)
    if not sites:
        return Liveness(beat, beat is not None and now - beat <= recent, workers)
    subscribers = await _recent(client, store.subscriber_heartbeat_pattern(), now,
                                SUBSCRIBER_SEEN_WITHIN)
    pipe = client.pipeline(transaction=False)
    for site in sites:
        pipe.exists(store.site_subscriber(site.id))
        pipe.get(store.site_subscribed_since(site.id))
    answers = await pipe.execute()
    subscriptions = {}
    for site, live, since in zip(sites, answers[::2], answers[1::2], strict=True):
        subscriptions[site.id] = Subscription(
            bool(live), codec.decode_heartbeat(since) if live else None)
    return Liveness(beat, beat is not None and now - beat <= recent, workers, subscribers,
                    subscriptions)


async def _recent(client: aioredis.Redis, pattern: str, now: datetime,
                  within: timedelta) -> int:
    """How many heartbeats matching `pattern` are younger than `within`."""
    count = 0
    async for key in client.scan_iter(match=pattern, count=100):
        seen = codec.decode_heartbeat(await client.get(key))
        count += seen is not None and now - seen <= within
    return count
