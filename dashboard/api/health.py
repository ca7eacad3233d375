"""A site's health as the API shows it: the same freshness rule as the pages."""

from __future__ import annotations

from datetime import datetime

from dashboard.api.schemas import HealthOut
from dashboard.panels.state import SiteState


def health_out(state: SiteState, now: datetime) -> HealthOut:
    fresh = state.freshness(now)
    health = state.health
    failures = health.failures if health else 0
    return HealthOut(
        status=fresh.status,  # type: ignore[arg-type]
        reachable=bool(health and not health.is_failing and health.last_success),
        stale=fresh.stale,
        failing=failures > 0,
        reason=fresh.reason,
        failures=failures,
        last_success=health.last_success if health else None,
        last_poll_age_seconds=_rounded(health.age(now)) if health else None,
        poll_interval_seconds=health.interval if health else state.config.poll_interval,
    )


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)
