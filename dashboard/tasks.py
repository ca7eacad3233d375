"""Thin Celery tasks over wincc_ingest.poller and the journal consumer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import redis
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from dashboard.celery import (
    DELIVER_TASK,
    JOURNAL_TASK,
    POLL_SITES_TASK,
    POLL_TASK,
    SETTLE_TASK,
    SETTLE_WRITE_TASK,
    SHELVE_EXPIRY_TASK,
    TREND_FLUSH_TASK,
    TREND_PRUNE_TASK,
    app,
    redis_client,
)
from wincc_ingest.config import Config
from wincc_ingest.poller import Backoff, Pollers

# Per worker process, made on first use (after the pool forked): one Redis connection pool,
# and the pollers with their WinCC clients and snapshots. Under the threads pool
# (docs/scale-out.md) the first polls arrive together: one thread makes them, the others wait.
_redis: redis.Redis | None = None
_pollers: Pollers | None = None
_pollers_config: object = None  # the configuration they were made from
_making = threading.RLock()  # pollers() makes the connection too
_poll_threads: ThreadPoolExecutor | None = None  # poll_sites' threads, made on first use


def connection() -> redis.Redis:
    global _redis
    if _redis is None:
        with _making:
            if _redis is None:
                _redis = redis_client()
    return _redis


def pollers() -> Pollers:
    """This process's pollers (the worker's, and the web's for acknowledged alarms,
    dashboard.acknowledge.show_acknowledged), made again when the configuration was."""
    global _pollers, _pollers_config
    from dashboard.siteconfig import get_config

    config = get_config()
    if _pollers is not None and _pollers_config is config:
        return _pollers
    with _making:
        if _pollers is not None and _pollers_config is not config:
            _pollers.close()
            _pollers = None
        if _pollers is None:
            _pollers = _make_pollers(config)
            _pollers_config = config
    return _pollers


def _make_pollers(config: Config) -> Pollers:
    from dashboard.deliveries import dispatch

    return Pollers(
        config.sites,
        connection(),
        backoff=Backoff(cap=settings.POLL_BACKOFF_CAP_SECONDS),
        alarm_reprobe=settings.ALARM_LIST_REPROBE_SECONDS,
        overrun=(SoftTimeLimitExceeded,),
        triggers=config.triggers,
        dispatch=dispatch,
    )


@app.task(name=POLL_TASK)
def poll_site(site_id: str) -> str:
    """Poll one site now; a poll of it already running makes this one return at once."""
    return pollers().poll(site_id).status


@app.task(name=POLL_SITES_TASK)
def poll_sites(site_ids: list[str]) -> list[str]:
    """Poll several sites now, each on a thread of this process: one message and one
    hand-over for all of them (POLL_SITES_PER_TASK). Each site's lock, backoff and record
    are its own, as with poll_site."""
    global _poll_threads
    if _poll_threads is None:
        with _making:
            if _poll_threads is None:
                _poll_threads = ThreadPoolExecutor(
                    max_workers=2 * settings.POLL_SITES_PER_TASK, thread_name_prefix="poll")
    sites = pollers()
    return list(_poll_threads.map(lambda site_id: sites.poll(site_id).status, site_ids))


@app.task(name=JOURNAL_TASK, soft_time_limit=20, time_limit=30)
def persist_journal() -> int:
    from dashboard.journal import persist_journal as persist

    return persist(connection(), claim_idle_ms=int(settings.JOURNAL_CLAIM_IDLE_SECONDS * 1000))


@app.task(name=SETTLE_TASK, soft_time_limit=60, time_limit=90)
def settle_acknowledgement(site_id: str, entry_id: int, attempt: int = 1) -> str:
    """Read back an acknowledgement whose answer was lost (routed by `site_id`'s queue)."""
    from dashboard.acknowledge import settle

    return settle(entry_id, attempt)


@app.task(name=SHELVE_EXPIRY_TASK, soft_time_limit=20, time_limit=30)
def expire_shelving() -> int:
    """End the shelvings whose time is up (dashboard.shelving.expire_due), and drop the notes
    of occurrences no list shows any more."""
    from dashboard.alarm_notes import prune_notes
    from dashboard.shelving import expire_due
    from dashboard.siteconfig import get_config

    ended = expire_due()
    prune_notes([site.id for site in get_config().sites])
    return ended


@app.task(name=SETTLE_WRITE_TASK, soft_time_limit=60, time_limit=90)
def settle_write(site_id: str, entry_id: int, attempt: int = 1) -> str:
    """Read back a write whose answer was lost (routed by `site_id`'s queue)."""
    from dashboard.writes import settle

    return settle(entry_id, attempt)


# At least once: acknowledged only after it ran, so a killed worker's delivery runs again.
@app.task(name=DELIVER_TASK, bind=True, acks_late=True, reject_on_worker_lost=True,
          max_retries=None, soft_time_limit=300, time_limit=330)
def deliver(self, trigger_id: str, action_index: int, event: dict) -> str:
    """Send one trigger event to one action; retried with backoff (dashboard.deliveries)."""
    from dashboard.deliveries import attempt, backoff

    try:
        status, delay = attempt(trigger_id, action_index, event)
    except (OperationalError, InterfaceError) as exc:
        # The delivery's record could not be read or written (the database locked or away):
        # the event is not lost, it is tried again, as a failed send is.
        raise self.retry(countdown=backoff(self.request.retries + 1), exc=exc) from exc
    if delay is not None:
        raise self.retry(countdown=delay)
    return status


@app.task(name=TREND_FLUSH_TASK, soft_time_limit=20, time_limit=30)
def flush_trend_minutes() -> int:
    """Write the closed minutes of every site to the trend store (dashboard.history.minutes)."""
    from dashboard.history.minutes import flush
    from dashboard.siteconfig import get_config

    return flush(connection(), [site.id for site in get_config().sites])


@app.task(name=TREND_PRUNE_TASK, soft_time_limit=60, time_limit=90)
def prune_trend_minutes() -> int:
    """Delete the trend store's minutes beyond TREND_STORE_RETENTION_DAYS, in batches."""
    from dashboard.history.minutes import prune

    return prune(settings.TREND_STORE_RETENTION_DAYS, budget_seconds=40)
