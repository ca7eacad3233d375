"""One scrape: the web process's own figures, the plant's from Redis and the records' from
the database, in Prometheus' text format.

A source that cannot answer is a figure (wdash_metrics_source_up 0) and its figures are left
out, never a 500 nor a zero that would read as "nothing wrong".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import sync_to_async
from django.db import DatabaseError
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from redis.exceptions import RedisError

from dashboard import siteconfig
from dashboard.metrics import plant, records, web
from dashboard.redis_client import async_redis
from wincc_bridge.models import utcnow

log = logging.getLogger(__name__)


class _Read:
    """A collector of figures read once for this scrape."""

    def __init__(self, found: Iterable[Metric]) -> None:
        self.found = list(found)

    def collect(self) -> Iterable[Metric]:
        return self.found


async def scrape() -> bytes:
    found: list[Metric] = []
    up = GaugeMetricFamily("wdash_metrics_source_up",
                           "1 when this scrape could read the source (redis, database).",
                           labels=["source"])
    client = async_redis()
    try:
        found += await plant.families(client, siteconfig.get_config(), utcnow())
        up.add_metric(["redis"], 1)
    except (RedisError, OSError) as exc:
        log.warning("metrics: Redis cannot be read (%s); its figures are left out", exc)
        up.add_metric(["redis"], 0)
    finally:
        await client.aclose()
    try:
        found += await sync_to_async(records.families)()
        up.add_metric(["database"], 1)
    except DatabaseError as exc:
        log.warning("metrics: the database cannot be read (%s); its figures are left out", exc)
        up.add_metric(["database"], 0)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Read([up, *found]))
    registry.register(_Read(web.collector().collect()))
    return generate_latest(registry)
