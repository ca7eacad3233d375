"""What the API reads: the sites a token sees, and their state from Redis in one round trip,
the same read the pages make (dashboard.panels.state)."""

from __future__ import annotations

from datetime import datetime

import redis

from dashboard.api.auth import can_read
from dashboard.api.errors import STORE_DOWN, no_such_site
from dashboard.models import ApiToken
from dashboard.panels.state import SiteState, read_states
from dashboard.redis_client import sync_redis
from dashboard.siteconfig import get_config
from wincc_ingest import codec
from wincc_ingest.config import SiteConfig


def readable_sites(token: ApiToken) -> list[SiteConfig]:
    return [site for site in get_config().sites if can_read(token, site.id)]


def readable_site(token: ApiToken, site_id: str) -> SiteConfig:
    """The site, or 404 when it does not exist or the token may not read it."""
    site = get_config().site(site_id)
    if site is None or not can_read(token, site_id):
        raise no_such_site(site_id)
    return site


def read_sites(reads: list[codec.SiteRead], now: datetime) -> dict[str, SiteState]:
    """The sites' state from Redis; 503 with a sentence when Redis does not answer."""
    try:
        return read_states(sync_redis(), get_config(), reads, now)
    except (redis.RedisError, OSError):
        raise STORE_DOWN from None
