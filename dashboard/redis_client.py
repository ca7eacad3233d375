"""The web's and the workers' Redis clients, sync and async, with one set of timeouts.

Every part of the dashboard that reads or writes Redis takes its client here, so a slow or
lost Redis is noticed after the same few seconds everywhere.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings

# A Redis on the same network answers in milliseconds; these only bound a lost one.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
# Idle pooled connections are checked before use (a restarted Redis drops them all).
HEALTH_CHECK_INTERVAL = 30

OPTIONS: dict[str, Any] = {
    "decode_responses": True,
    "socket_connect_timeout": CONNECT_TIMEOUT,
    "socket_timeout": READ_TIMEOUT,
    "health_check_interval": HEALTH_CHECK_INTERVAL,
}


@lru_cache(maxsize=4)
def _pool(url: str) -> redis.ConnectionPool:
    return redis.ConnectionPool.from_url(url, **OPTIONS)


def sync_redis(url: str | None = None) -> redis.Redis:
    """A client on this process's shared pool (redis-py renews the pool after a fork)."""
    return redis.Redis(connection_pool=_pool(url or settings.REDIS_URL))


def async_redis(url: str | None = None) -> aioredis.Redis:
    """A new client for the running event loop; the caller closes it with aclose()."""
    return aioredis.from_url(url or settings.REDIS_URL, **OPTIONS)
