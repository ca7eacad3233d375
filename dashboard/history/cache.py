"""A site's series for one window, kept in Redis for a short time.

Many screens open the same trend (a shift's 8 hours, last night): the archive is asked once.
The key holds the site, its pens, the window in whole seconds, the width and the source the
site is asked first; a window reaching now is kept only LIVE_SECONDS, so the live edge is
never older than that. Redis being away costs the cache, never the answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence

import redis
from django.conf import settings

from dashboard.history.sources import Series
from wincc_ingest.store import PREFIX

log = logging.getLogger(__name__)

LIVE_SECONDS = 2


def key(site: str, names: Sequence[str], start: float, end: float, width: int,
        source: str, language: str = "en") -> str:
    digest = hashlib.sha256("\x1f".join(names).encode()).hexdigest()[:24]
    return (f"{PREFIX}:trend:{site}:{digest}:{int(start)}:{int(end)}:{width}:{source}"
            f":{language}")


def cached(r: redis.Redis | None, cache_key: str, live: bool,
           compute: Callable[[], dict[str, Series]]) -> dict[str, Series]:
    """The series under `cache_key`, or compute() and keep them."""
    if r is not None:
        try:
            raw = r.get(cache_key)
            if raw:
                return {name: Series.from_json(data) for name, data in json.loads(raw).items()}
        except (redis.RedisError, ValueError, KeyError, TypeError):
            log.warning("trend cache %s unreadable", cache_key, exc_info=True)
    series = compute()
    if r is not None:
        ttl = LIVE_SECONDS if live else settings.TREND_CACHE_SECONDS
        try:
            r.set(cache_key, json.dumps({name: s.to_json() for name, s in series.items()},
                                        separators=(",", ":")), ex=max(1, int(ttl)))
        except redis.RedisError:
            log.warning("trend cache %s not written", cache_key, exc_info=True)
    return series


# An archive that failed is not asked again for this long: each trend request would
# otherwise wait out its timeout before the store answers.
ARCHIVE_DOWN_SECONDS = 30


def _archive_down_key(site: str) -> str:
    return f"{PREFIX}:trend:archive-down:{site}"


def archive_down(r: redis.Redis | None, site: str) -> str | None:
    """The archive's own words of the site's archive's recent failure, while it is
    remembered (sources.unavailable() words the sentence in the request's language)."""
    if r is None:
        return None
    try:
        reason = r.get(_archive_down_key(site))
    except redis.RedisError:
        return None
    return reason if isinstance(reason, str) else None


def note_archive_down(r: redis.Redis | None, site: str, reason: str) -> None:
    if r is None:
        return
    try:
        r.set(_archive_down_key(site), reason, ex=ARCHIVE_DOWN_SECONDS)
    except redis.RedisError:
        log.warning("the failure of %s's archive is not remembered", site, exc_info=True)
