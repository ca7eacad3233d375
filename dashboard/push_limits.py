"""How often a Classic site's REST Connector may post, and how a flood of refused posts is
kept out of the log (POST /ingest/rest-connector/<site>/, dashboard.views.rest_connector).

Two counters in Redis, shared by every web process, in fixed windows of
INGEST_LIMIT_WINDOW_SECONDS:

- per site, the pushes whose credentials were good: beyond INGEST_SITE_PUSH_LIMIT in a
  window the site's pushes are answered 429 until it ends. Only proven pushes count, so
  nobody without the secret can use up a site's budget.
- per site and sender address (the address as the audit sees it, X-Forwarded-For only from
  TRUSTED_PROXIES), the pushes refused for their credentials: beyond INGEST_REFUSAL_LIMIT
  that address's refused pushes are answered 429 instead of 401 or 403. The credentials are
  checked first, so a correct push is never refused for someone else's refusals.

Each is logged once per window, at its first event, with the count of the window before;
never what a sender offered. Without Redis nothing is limited and every refusal is logged.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings

from dashboard.redis_client import sync_redis
from wincc_ingest import store

log = logging.getLogger("dashboard.ingest")


@dataclass(frozen=True)
class Counted:
    count: int  # in this window, the one just counted included
    previous: int  # in the window before
    retry_after: int  # seconds until this window ends


def _count(key: Callable[[int], str]) -> Counted | None:
    window = settings.INGEST_LIMIT_WINDOW_SECONDS
    now = time.time()
    number = int(now // window)
    try:
        count, previous = store.count_in_window(
            sync_redis(), key(number), key(number - 1), 2 * window)
    except redis.RedisError:
        return None
    return Counted(count, previous, max(1, math.ceil((number + 1) * window - now)))


def _before(previous: int) -> str:
    window = settings.INGEST_LIMIT_WINDOW_SECONDS
    return f" ({previous} in the {window} s before)" if previous else ""


def site_over(site_id: str) -> int | None:
    """Count one push of the site whose credentials were good: the seconds to wait (for
    Retry-After) once the site is over INGEST_SITE_PUSH_LIMIT in this window, else None."""
    counted = _count(lambda number: store.site_pushes(site_id, number))
    limit = settings.INGEST_SITE_PUSH_LIMIT
    if counted is None or counted.count <= limit:
        return None
    if counted.count == limit + 1:
        log.warning("site %s: more than %d pushes in %d s; its pushes are answered 429 for "
                    "%d s%s", site_id, limit, settings.INGEST_LIMIT_WINDOW_SECONDS,
                    counted.retry_after, _before(counted.previous))
    return counted.retry_after


def refusal_over(site_id: str, address: str, problem: str) -> int | None:
    """Count one push of the site refused for its credentials (`problem`: "missing" or
    "wrong") from `address`, logging the first of the window: the seconds to wait once that
    address is over INGEST_REFUSAL_LIMIT in this window, else None."""
    counted = _count(lambda number: store.push_refusals(site_id, address, number))
    if counted is None:
        log.warning("site %s: a push from %s refused: %s credentials", site_id, address,
                    problem)
        return None
    if counted.count == 1:
        log.warning("site %s: a push from %s refused: %s credentials; further refusals from "
                    "there are counted, not logged, for %d s%s", site_id, address, problem,
                    counted.retry_after, _before(counted.previous))
    if counted.count <= settings.INGEST_REFUSAL_LIMIT:
        return None
    return counted.retry_after
