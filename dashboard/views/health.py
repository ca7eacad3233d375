"""/health/: liveness and readiness for load balancers. No sign-in; names no secrets.

"down" (503) without Redis, the beat or a worker; "degraded" (200) while a site is not
current or a site configured `"ingest": "subscribe"` has no live subscription (its polls
keep it current meanwhile, but its changes wait for the next poll); otherwise "ok".
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from django.http import JsonResponse

from dashboard import liveness, siteconfig
from dashboard.redis_client import async_redis
from wincc_bridge.models import utcnow
from wincc_ingest import codec, store


async def health(request) -> JsonResponse:
    config = siteconfig.get_config()
    sites: dict[str, dict[str, Any]] = {}
    answer: dict[str, Any] = {
        "status": "down", "redis": False, "beat": None, "workers": 0, "subscribers": 0,
        "sites": sites,
    }
    client = async_redis()
    try:
        await client.ping()
        answer["redis"] = True
        now = utcnow()
        alive = await liveness.read(client, config, now)
        answer["beat"] = codec.iso(alive.beat) or None
        answer["workers"] = alive.workers
        answer["subscribers"] = alive.subscribers
        for site in config.sites:
            mapping = await client.hgetall(store.site_health(site.id))
            health = codec.decode_health(mapping) if mapping else None
            sites[site.id] = {
                "current": bool(health and health.is_current(now)),
                "failures": health.failures if health else None,
                "last_success": codec.iso(health.last_success) if health else None,
            }
            subscription = alive.subscriptions.get(site.id)
            if subscription is not None:
                sites[site.id]["subscription"] = {
                    "live": subscription.live,
                    "since": codec.iso(subscription.since) or None,
                    "last_push": (codec.iso(health.last_push) or None) if health else None,
                }
        if alive.beat_running and alive.workers:
            ready = all(s["current"] for s in sites.values()) and all(
                s.live for s in alive.subscriptions.values())
            answer["status"] = "ok" if ready else "degraded"
    except (aioredis.RedisError, OSError, codec.StoredDataError):
        pass
    finally:
        await client.aclose()
    return JsonResponse(answer, status=200 if answer["status"] != "down" else 503)
