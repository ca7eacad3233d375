"""The dashboard's trend store: closed minutes from Redis to the database, and pruning.

The poller accumulates each site's open minute in Redis (wincc_ingest.minutes); a beat task
calls flush() every few seconds, which writes each site's closed minutes in one bulk insert
and then removes them from Redis. A flush cut short between the two (a killed worker) runs
again: the rows it inserted already are skipped by the (site, tag, minute) constraint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import cast

import redis

from dashboard.models import TagMinute
from wincc_ingest import minutes, store

log = logging.getLogger(__name__)

# A minute is flushed this many seconds after it ended: a poll that read its values just
# before the minute turned may still be writing them.
GRACE_SECONDS = 15
BULK_BATCH = 1000
PRUNE_BATCH = 5000


def _held(r: redis.Redis, site: str, low: float | str, high: float | str) -> list[int]:
    """The site's minutes in Redis from `low` to `high`, oldest first."""
    found = r.zrangebyscore(store.site_minutes(site), low, high, withscores=True)
    return [int(score) for _, score in cast(list[tuple[str, float]], found)]


def flush(r: redis.Redis, site_ids: Iterable[str], now: float | None = None) -> int:
    """Write every closed minute of the sites to the database; the number of rows offered
    (rows already there are skipped)."""
    now = time.time() if now is None else now
    closed_before = now - GRACE_SECONDS - store.MINUTE_SECONDS  # minutes starting by then
    written = 0
    for site in site_ids:
        held = _held(r, site, "-inf", closed_before)
        if not held:
            continue
        rows = []
        for minute in held:
            stamp = datetime.fromtimestamp(minute, UTC)
            for tag, raw in r.hgetall(store.site_minute(site, minute)).items():
                name = tag.decode() if isinstance(tag, bytes) else tag
                values = minutes.decode(name, raw)
                if values is None:
                    log.warning("site %s: unreadable minute of %s at %s skipped", site, name,
                                stamp)
                    continue
                rows.append(TagMinute(
                    site_id=site, tag=name, minute=stamp, minimum=values.minimum,
                    maximum=values.maximum, average=values.average, last=values.last,
                    count=values.count, quality=values.quality))
        TagMinute.objects.bulk_create(rows, batch_size=BULK_BATCH, ignore_conflicts=True)
        pipe = r.pipeline(transaction=True)
        pipe.delete(*(store.site_minute(site, m) for m in held))
        pipe.zrem(store.site_minutes(site), *held)
        pipe.execute()
        written += len(rows)
    return written


def open_minutes(r: redis.Redis, site: str, tags: Iterable[str],
                 since: float) -> dict[str, list[tuple[int, minutes.MinuteValues]]]:
    """The minutes of `tags` still in Redis (not yet flushed) from `since` on, by tag, in
    time order: the live edge of a store pen."""
    names = list(tags)
    found: dict[str, list[tuple[int, minutes.MinuteValues]]] = {name: [] for name in names}
    held = _held(r, site, minutes.minute_of(since), "+inf")
    for minute in held:
        raws = r.hmget(store.site_minute(site, minute), names)
        for name, raw in zip(names, raws, strict=True):
            values = minutes.decode(name, raw) if raw is not None else None
            if values is not None:
                found[name].append((minute, values))
    return found


def prune(retention_days: float, now: datetime | None = None,
          batch: int = PRUNE_BATCH, budget_seconds: float = 20.0) -> int:
    """Delete the minutes older than the retention, `batch` rows per statement (a long
    delete would hold the database's write lock), within about `budget_seconds`; the next
    run goes on where this one stopped. The number of rows deleted."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    deleted = 0
    started = time.monotonic()
    while time.monotonic() - started < budget_seconds:
        ids = list(TagMinute.objects.filter(minute__lt=cutoff)
                   .values_list("id", flat=True)[:batch])
        if not ids:
            break
        deleted += TagMinute.objects.filter(id__in=ids).delete()[0]
    return deleted
