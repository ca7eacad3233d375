"""Whether the beat and the workers run, from their heartbeats in Redis: one reading for
/health/ and /metrics alike, so both count a worker the same way.

A worker or the beat counts as running while its last heartbeat is younger than
dashboard.celery.seen_within (3 poll intervals of the most often polled site).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import redis.asyncio as aioredis

from dashboard.celery import seen_within
from wincc_ingest import codec, store
from wincc_ingest.config import Config


@dataclass(frozen=True)
class Liveness:
    beat: datetime | None  # the beat's last heartbeat, if Redis still holds one
    beat_running: bool
    workers: int  # workers with a recent heartbeat


async def read(client: aioredis.Redis, config: Config, now: datetime) -> Liveness:
    """Raises what the Redis client raises; the caller decides what Redis down means."""
    recent = timedelta(seconds=seen_within(config))
    beat = codec.decode_heartbeat(await client.get(store.BEAT_HEARTBEAT))
    workers = 0
    async for key in client.scan_iter(match=store.worker_heartbeat_pattern(), count=100):
        seen = codec.decode_heartbeat(await client.get(key))
        workers += seen is not None and now - seen <= recent
    return Liveness(beat, beat is not None and now - beat <= recent, workers)
