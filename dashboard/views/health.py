"""/health/: liveness and readiness for load balancers. No sign-in; names no secrets."""

from __future__ import annotations

from datetime import timedelta

import redis.asyncio as aioredis
from django.conf import settings
from django.http import JsonResponse

from dashboard import siteconfig
from wincc_bridge.models import parse_iso, utcnow
from wincc_ingest import store

# Beat and worker heartbeats are written with a 60 s TTL; older than this is "not seen".
SEEN_WITHIN = timedelta(seconds=60)


async def health(request) -> JsonResponse:
    config = siteconfig.get_config()
    answer = {"status": "down", "redis": False, "beat": None, "workers": 0, "sites": {}}
    client = aioredis.from_url(
        settings.REDIS_URL, decode_responses=True, socket_timeout=2, socket_connect_timeout=2
    )
    try:
        await client.ping()
        answer["redis"] = True
        now = utcnow()
        beat = parse_iso(await client.get(store.BEAT_HEARTBEAT))
        answer["beat"] = store.iso(beat) or None
        workers = 0
        async for key in client.scan_iter(match=store.worker_heartbeat_pattern(), count=100):
            seen = parse_iso(await client.get(key))
            workers += seen is not None and now - seen <= SEEN_WITHIN
        answer["workers"] = workers
        for site in config.sites:
            mapping = await client.hgetall(store.site_health(site.id))
            health = store.decode_health(mapping) if mapping else None
            answer["sites"][site.id] = {
                "current": bool(health and health.is_current(now)),
                "failures": health.failures if health else None,
                "last_success": store.iso(health.last_success) if health else None,
            }
        beat_seen = beat is not None and now - beat <= SEEN_WITHIN
        if beat_seen and workers:
            ready = all(s["current"] for s in answer["sites"].values())
            answer["status"] = "ok" if ready else "degraded"
    except (aioredis.RedisError, OSError, store.StoredDataError, ValueError):
        pass
    finally:
        await client.aclose()
    return JsonResponse(answer, status=200 if answer["status"] != "down" else 503)
