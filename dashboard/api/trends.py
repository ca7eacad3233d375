"""GET /api/v1/sites/{site_id}/trend/?tag=NAME: the recent window of one tag's values.

Only what the poller keeps in Redis for the small trends (store.TREND_LENGTH samples per
tag); the dashboard keeps no longer history."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpRequest

from dashboard.api.auth import token_of
from dashboard.api.errors import ApiError
from dashboard.api.health import health_out
from dashboard.api.reading import read_sites, readable_site
from dashboard.api.schemas import SampleOut, TrendOut
from wincc_bridge.models import utcnow
from wincc_ingest import codec, store

TAG = "trends"
TAG_MAX = 256


def tag_trend(request: HttpRequest, site_id: str, tag: str) -> TrendOut:
    """The recent samples of one tag, oldest first: at most 600, one per poll that changed
    the value (numbers only). The recent window only, not a history archive; a stale
    site's window ends where its polls stopped."""
    site = readable_site(token_of(request), site_id)
    if len(tag) > TAG_MAX or "\x00" in tag:
        raise ApiError(422, f"The query parameter 'tag' may be at most {TAG_MAX} characters "
                            "long, without NUL characters.")
    now = utcnow()
    read = codec.SiteRead(site.id, values=(tag,), alarms=False, trends=(tag,))
    state = read_sites([read], now)[site.id]
    config = site.tag(tag)
    samples = state.trends.get(tag, [])
    if config is None and tag not in state.values and not samples:
        raise ApiError(404, f"The site {site.id!r} has no tag {tag[:80]!r}.")
    return TrendOut(
        site=site.id, tag=tag, unit=config.unit if config else "", health=health_out(state, now),
        window="recent", max_samples=store.TREND_LENGTH,
        samples=[SampleOut(at=datetime.fromtimestamp(at, UTC), value=value)
                 for at, value in samples],
    )


def register(router) -> None:
    router.read("/sites/{site_id}/trend/", response=TrendOut,
                summary="Recent trend window of one tag")(tag_trend)
