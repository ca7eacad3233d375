"""GET /api/v1/sites/{site_id}/tags/: the current value of every tag of a site."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.http import HttpRequest

from dashboard.api.auth import token_of
from dashboard.api.health import health_out
from dashboard.api.reading import read_sites, readable_site
from dashboard.api.schemas import TagOut, TagsOut, Value
from wincc_bridge.models import utcnow
from wincc_ingest import codec
from wincc_ingest.config import SiteConfig

TAG = "tags"


def plain_value(value: Any) -> Value:
    """What JSON carries as it is: a finite number, a switch, a text; else None."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float) and math.isfinite(value):
        return value
    return None


def tag_out(site: SiteConfig, stored: codec.StoredValue, confirmed: datetime | None,
            now: datetime) -> TagOut:
    """`confirmed`: the site's last successful poll, which read the value again."""
    tag, config = stored.tag, site.tag(stored.tag.name)
    seen = max(stored.read_at, confirmed) if confirmed else stored.read_at
    value, error = plain_value(tag.value), tag.error
    if value is None and tag.value is not None and error is None:
        error = f"WinCC gave {str(tag.value)[:40]!r}, which JSON cannot carry as a value"
    return TagOut(
        name=tag.name, label=config.label if config else tag.name,
        unit=config.unit if config else "", value=value, quality=tag.quality.value,
        quality_code=tag.quality_code, error=error, timestamp=tag.timestamp,
        changed_at=stored.read_at, age_seconds=round(max(0.0, (now - seen).total_seconds()), 3),
    )


def site_tags(request: HttpRequest, site_id: str) -> TagsOut:
    """Every tag the poller holds for the site: value, quality, unit and age. The site's
    health says whether these values are current: a stale or failing site's values are
    the last ones read, never live."""
    site = readable_site(token_of(request), site_id)
    now = utcnow()
    state = read_sites([codec.SiteRead(site.id, alarms=False)], now)[site.id]
    confirmed = state.health.last_success if state.health else None
    return TagsOut(
        site=site.id, health=health_out(state, now),
        tags=[tag_out(site, state.values[name], confirmed, now) for name in sorted(state.values)],
    )


def register(router) -> None:
    router.read("/sites/{site_id}/tags/", response=TagsOut,
                summary="Current tag values of a site")(site_tags)
