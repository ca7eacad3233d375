"""Thin Celery tasks over wincc_bridge.poller and the journal consumer."""

from __future__ import annotations

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from dashboard.celery import JOURNAL_TASK, POLL_TASK, app, redis_client
from wincc_bridge.poller import Backoff, Pollers

# One set of pollers (clients and snapshots) per worker process, made on its first poll.
_pollers: Pollers | None = None


def pollers() -> Pollers:
    global _pollers
    if _pollers is None:
        from dashboard.siteconfig import get_config

        _pollers = Pollers(
            get_config().sites,
            redis_client(),
            backoff=Backoff(cap=settings.POLL_BACKOFF_CAP_SECONDS),
            overrun=(SoftTimeLimitExceeded,),
        )
    return _pollers


@app.task(name=POLL_TASK)
def poll_site(site_id: str) -> str:
    """Poll one site now; a poll of it already running makes this one return at once."""
    return pollers().poll(site_id).status


@app.task(name=JOURNAL_TASK, soft_time_limit=20, time_limit=30)
def persist_journal() -> int:
    from dashboard.journal import persist_journal as persist

    r = redis_client()
    try:
        return persist(r, claim_idle_ms=int(settings.JOURNAL_CLAIM_IDLE_SECONDS * 1000))
    finally:
        r.close()
