"""P6's counter inside the worker: `celery -A dashboard worker --include bench.p6_probe`.

For every poll task the worker ends or drops, one line on a Redis list: when, the site, what
became of it (the task's status: ok, busy, backing off, failed; or expired, revoked), how
long after beat sent it the poll began (its `expires` is beat's send time plus the interval),
the CPU seconds the task's body took in its thread, and beat's send time (the interval the
poll belongs to) (what is left of the worker's CPU is
Celery's own work per task: the broker, the message, the pool).
The product logs none of this at INFO (dashboard/log_filters.py), and the benchmark must not
depend on the log. Costs the worker one RPUSH per poll.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime

import redis
from celery.signals import task_postrun, task_prerun, task_revoked

from dashboard.celery import POLL_SITES_TASK, POLL_TASK

POLLS = (POLL_TASK, POLL_SITES_TASK)

KEY = "bench:p6:polls"
_client: redis.Redis | None = None
_started: dict[str, tuple[float, float]] = {}


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(os.environ["REDIS_URL"])
    return _client


def _sent(request) -> float | None:
    """Beat's send time: the poll's expiry less its interval (dashboard.celery.poll_options)."""
    from dashboard.siteconfig import get_config

    expires = getattr(request, "expires", None)
    first = request.args[0] if request.args else None
    if isinstance(first, list):  # POLL_SITES_TASK: its sites share their interval
        first = first[0] if first else None
    site = get_config().site(first) if first else None
    if not expires or site is None:
        return None
    # The task's request holds the header's text; a dropped task's, the parsed time.
    at = expires if isinstance(expires, datetime) else datetime.fromisoformat(expires)
    return at.timestamp() - site.poll_interval


def _push(site: str, outcome: str, late: float | None, cpu: float | None = None,
          sent: float | None = None) -> None:
    _redis().rpush(KEY, json.dumps([time.time(), site, outcome, late, cpu, sent]))


@task_prerun.connect
def _prerun(sender=None, task_id=None, task=None, **kwargs) -> None:
    if task is not None and task.name in POLLS:
        _started[task_id] = (time.time(), time.thread_time())


@task_postrun.connect
def _postrun(sender=None, task_id=None, task=None, retval=None, args=None, **kwargs) -> None:
    if task is None or task.name not in POLLS:
        return
    cpu = None
    began = None
    if task_id in _started:
        began, thread_cpu = _started.pop(task_id)
        cpu = time.thread_time() - thread_cpu
    sent = _sent(task.request)
    late = None if began is None or sent is None else began - sent
    if task.name == POLL_SITES_TASK:
        # One line per site; the CPU of the sites' own threads is not the task thread's.
        statuses = retval if isinstance(retval, list) else ["error"] * len(args[0])
        for site_id, status in zip(args[0], statuses, strict=False):
            _push(site_id, status, late, None, sent)
        return
    _push(args[0] if args else "?", retval if isinstance(retval, str) else "error", late, cpu,
          sent)


@task_revoked.connect
def _revoked(sender=None, request=None, expired=False, **kwargs) -> None:
    # Sent by the worker's main process; `sender` is the task, `request` its context.
    if request is None or getattr(sender, "name", None) not in POLLS:
        return
    first = request.args[0] if request.args else "?"
    sent = _sent(request)
    for site_id in first if isinstance(first, list) else [first]:
        _push(site_id, "expired" if expired else "revoked", None, None, sent)
