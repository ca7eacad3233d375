"""GET /api/v1/sites/ and /api/v1/sites/{site_id}/: the sites a token reads, with health."""

from __future__ import annotations

from django.http import HttpRequest

from dashboard.api.auth import token_of
from dashboard.api.health import health_out
from dashboard.api.reading import read_sites, readable_site, readable_sites
from dashboard.api.schemas import SiteOut
from dashboard.panels.state import SiteState
from wincc_bridge.models import utcnow
from wincc_ingest import codec
from wincc_ingest.config import SiteConfig

TAG = "sites"


def _site_out(site: SiteConfig, state: SiteState, now) -> SiteOut:
    return SiteOut(id=site.id, name=site.name, dialect=site.dialect,
                   health=health_out(state, now))


def _health_only(site_ids: list[str]) -> list[codec.SiteRead]:
    return [codec.SiteRead(s, values=False, alarms=False) for s in site_ids]


def list_sites(request: HttpRequest) -> list[SiteOut]:
    """Every site this token may read, with its health: whether its poll is current,
    stale or failing, why, and how long ago it last succeeded."""
    sites = readable_sites(token_of(request))
    now = utcnow()
    states = read_sites(_health_only([s.id for s in sites]), now)
    return [_site_out(site, states[site.id], now) for site in sites]


def get_site(request: HttpRequest, site_id: str) -> SiteOut:
    """One site with its health; 404 for a site that does not exist or that this token
    may not read (the same answer for both)."""
    site = readable_site(token_of(request), site_id)
    now = utcnow()
    return _site_out(site, read_sites(_health_only([site.id]), now)[site.id], now)


def register(router) -> None:
    router.read("/sites/", response=list[SiteOut], summary="Sites with health")(list_sites)
    router.read("/sites/{site_id}/", response=SiteOut, summary="One site")(get_site)
