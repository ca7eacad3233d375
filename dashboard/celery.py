"""The Celery app: Redis as broker, one periodic poll per site, the journal consumer.

`celery -A dashboard worker` polls; `celery -A dashboard beat` (exactly one) schedules. Both
read the site configuration when they start and refuse to run on a broken one, and follow a
changed file while they run (dashboard/siteconfig.py). The schedule is built here from the
configuration, not kept in a database.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import redis
from celery import Celery, bootsteps
from celery.beat import PersistentScheduler
from celery.schedules import schedstate
from celery.schedules import schedule as every_interval
from celery.signals import worker_init
from kombu import Queue

from wincc_bridge.models import utcnow
from wincc_ingest import codec, store
from wincc_ingest.config import Config, ConfigError, SiteConfig
from wincc_ingest.poller import TimeLimits

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

log = logging.getLogger(__name__)

POLL_TASK = "dashboard.tasks.poll_site"
POLL_SITES_TASK = "dashboard.tasks.poll_sites"
JOURNAL_TASK = "dashboard.tasks.persist_journal"
SETTLE_TASK = "dashboard.tasks.settle_acknowledgement"
SHELVE_EXPIRY_TASK = "dashboard.tasks.expire_shelving"
SETTLE_WRITE_TASK = "dashboard.tasks.settle_write"
DELIVER_TASK = "dashboard.tasks.deliver"
TREND_FLUSH_TASK = "dashboard.tasks.flush_trend_minutes"
TREND_PRUNE_TASK = "dashboard.tasks.prune_trend_minutes"
TREND_FLUSH_EVERY = 10.0  # seconds between writes of closed minutes to the trend store
TREND_PRUNE_EVERY = 3600.0  # seconds between prunings of minutes beyond the retention
# Integration deliveries have their own queue, so a slow receiver never delays a poll.
DELIVERIES_QUEUE = "deliveries"
JOURNAL_EVERY = 1.0  # seconds between journal consumer runs
HEARTBEAT_EVERY = 5.0  # seconds at most between heartbeats; the keys live store.HEARTBEAT_TTL
# /health/ calls a worker or the beat gone when it missed this many poll intervals (of the
# most often polled site): as soon as the sites it polls would show as not current.
MISSED_INTERVALS = 3
BEAT_LOCK_TTL = 15  # seconds; several ticks

# Every Celery option of the product is here; the settings give only the broker's address.
app = Celery("dashboard", include=["dashboard.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_ignore_result=True,
    result_backend=None,
    worker_prefetch_multiplier=1,
    # A killed poll is simply the next one; it must not be redelivered late.
    task_acks_late=False,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    beat_scheduler="dashboard.celery:SiteScheduler",
    beat_max_loop_interval=HEARTBEAT_EVERY,
    task_routes=("dashboard.celery.route_task",),
    # A worker started without --queues consumes both; site queues are made when named.
    # Each queue has its own routing key: a shared one would copy every message to both.
    task_default_queue="celery",
    task_queues=(Queue("celery", routing_key="celery"),
                 Queue(DELIVERIES_QUEUE, routing_key=DELIVERIES_QUEUE)),
)
celery_app = app


def load_config() -> Config:
    """The site configuration, or exit with its problems in one paragraph."""
    from dashboard.siteconfig import get_config

    try:
        return get_config()
    except ConfigError as exc:
        problems = "; ".join(exc.problems)
        raise SystemExit(
            f"Cannot start: the configuration {exc.source} has {len(exc.problems)} "
            f"problem(s): {problems}. Fix the file named by WINCC_CONFIG and start again."
        ) from None


def route_task(name, args, kwargs, options, task=None, **extra):
    """A site with a `queue` in the configuration is polled (and read back after a lost
    acknowledge answer) only by workers of that queue."""
    if name == DELIVER_TASK:
        return {"queue": DELIVERIES_QUEUE}
    if name not in (POLL_TASK, POLL_SITES_TASK, SETTLE_TASK, SETTLE_WRITE_TASK) or not args:
        return None
    from dashboard.siteconfig import get_config

    # The sites of one POLL_SITES_TASK share their queue (beat_schedule groups them so).
    first = args[0][0] if name == POLL_SITES_TASK and args[0] else args[0]
    site = get_config().site(first)
    if site is not None and site.queue:
        return {"queue": site.queue}
    return None


def poll_options(site: SiteConfig, config: Config) -> dict[str, Any]:
    """A poll is dropped (not queued) once the next one is due, and stopped before its lock
    can expire (wincc_ingest.poller.TimeLimits)."""
    limits = TimeLimits.for_sites(config.sites)
    return {
        "expires": site.poll_interval,
        "soft_time_limit": limits.soft,
        "time_limit": limits.hard,
    }


class PhasedSchedule(every_interval):
    """Every `run_every` seconds, `phase` seconds into each interval of the clock (epoch time).

    Celery's plain schedule runs an entry one interval after it last ran: every entry made at
    beat's start fires in the same instant, and each late tick pushes the entry later for
    good. On a fixed grid with a phase per entry, the polls of many sites are spread across
    the interval, and a late tick costs that one send, not every send after it.
    """

    def __init__(self, run_every: float | timedelta, phase: float = 0.0, nowfun=None,
                 app=None) -> None:
        super().__init__(run_every=run_every, nowfun=nowfun, app=app)
        self.phase = phase

    def _slot(self, epoch: float) -> int:
        return math.floor((epoch - self.phase) / self.seconds)

    def is_due(self, last_run_at):
        now = self.maybe_make_aware(self.now()).timestamp()
        slot = self._slot(now)
        next_s = (slot + 1) * self.seconds + self.phase - now
        last = self.maybe_make_aware(last_run_at).timestamp()
        return schedstate(is_due=slot > self._slot(last), next=next_s)

    def __repr__(self) -> str:
        return f"<freq: {self.human_seconds}, phase {self.phase:.3f} s>"

    def __reduce__(self):
        return self.__class__, (self.seconds, self.phase)


def beat_schedule(config: Config) -> dict[str, dict]:
    """One poll per site at its interval; with POLL_SITES_PER_TASK above 1, one task for up
    to that many sites of the same interval and queue (docs/scale-out.md). The polls of one
    interval are spread evenly across it (PhasedSchedule)."""
    from django.conf import settings

    per_task = settings.POLL_SITES_PER_TASK
    polls: list[tuple[str, str, tuple, SiteConfig]] = []  # name, task, args, first site
    if per_task <= 1:
        polls = [(f"poll {site.id}", POLL_TASK, (site.id,), site) for site in config.sites]
    else:
        groups: dict[tuple[float, str], list[SiteConfig]] = {}
        for site in config.sites:
            groups.setdefault((site.poll_interval, site.queue or ""), []).append(site)
        for group in groups.values():
            for start in range(0, len(group), per_task):
                batch = group[start:start + per_task]
                polls.append((f"poll {batch[0].id} .. {batch[-1].id}", POLL_SITES_TASK,
                              ([site.id for site in batch],), batch[0]))
    same_interval = Counter(site.poll_interval for *_, site in polls)
    placed: dict[float, int] = {}
    schedule: dict[str, dict] = {}
    for name, task, args, site in polls:
        interval = site.poll_interval
        k = placed[interval] = placed.get(interval, -1) + 1
        schedule[name] = {
            "task": task,
            "schedule": PhasedSchedule(interval, phase=k * interval / same_interval[interval]),
            "args": args,
            "options": poll_options(site, config),
        }
    schedule["persist journal"] = {
        "task": JOURNAL_TASK,
        "schedule": JOURNAL_EVERY,
        "options": {"expires": JOURNAL_EVERY},
    }
    every = settings.ALARM_SHELVE_EXPIRY_SECONDS
    schedule["end shelving whose time is up"] = {
        "task": SHELVE_EXPIRY_TASK, "schedule": every, "options": {"expires": every},
    }
    schedule["write closed minutes to the trend store"] = {
        "task": TREND_FLUSH_TASK, "schedule": TREND_FLUSH_EVERY,
        "options": {"expires": TREND_FLUSH_EVERY},
    }
    schedule["prune the trend store"] = {
        "task": TREND_PRUNE_TASK, "schedule": TREND_PRUNE_EVERY,
        "options": {"expires": TREND_PRUNE_EVERY},
    }
    return schedule


def request_poll(site_id: str) -> None:
    """Ask for an immediate poll of a site (after an acknowledgement, so every screen shows
    the new state soon); never fails the caller."""
    try:
        from dashboard.siteconfig import get_config

        config = get_config()
        site = config.site(site_id)
        if site is None:
            return
        app.send_task(POLL_TASK, args=[site_id], retry=False, **poll_options(site, config))
    except Exception:  # the caller's work is done; a late poll only delays the screens
        log.warning("immediate poll of %s not requested", site_id, exc_info=True)


def request_settle(site_id: str, entry_id: int, *, countdown: float, attempt: int = 1,
                   task: str = SETTLE_TASK) -> None:
    """Read back an acknowledgement (or, with SETTLE_WRITE_TASK, a write) whose answer was
    lost, in `countdown` seconds; never fails the caller (without a broker the row stays
    "unknown", which is true)."""
    try:
        app.send_task(task, args=[site_id, entry_id, attempt], countdown=countdown,
                      retry=False)
    except Exception:
        log.warning("read-back of audit entry %s not requested", entry_id, exc_info=True)


def heartbeat_every(config: Config) -> float:
    """A heartbeat every poll interval of the most often polled site (at most every
    HEARTBEAT_EVERY s), so that a frozen worker is noticed within MISSED_INTERVALS of them."""
    return min(HEARTBEAT_EVERY, config.shortest_poll_interval())


def seen_within(config: Config) -> float:
    """Seconds after its last heartbeat that a worker or the beat still counts as running."""
    return MISSED_INTERVALS * config.shortest_poll_interval()


def redis_client() -> redis.Redis:
    from dashboard.redis_client import sync_redis

    return sync_redis()


def _beat(r: redis.Redis, key: str) -> None:
    try:
        r.set(key, codec.encode_heartbeat(utcnow()), ex=store.HEARTBEAT_TTL)
    except redis.RedisError as exc:
        log.warning("cannot write the heartbeat %s: %s", key, exc)


class SiteScheduler(PersistentScheduler):
    """Beat's scheduler: the schedule comes from the configuration; beats a heartbeat.

    Exactly one beat may run: it holds store.BEAT_LOCK, renewed with the heartbeat twice per
    heartbeat interval. A second one waits BEAT_LOCK_TTL for it (a crashed beat's lock
    expires) and then refuses to start.

    Beat sends one poll per site per interval, each in a tick of its own: at 100 sites and 1 s
    that is 100 ticks a second, so a tick does no more than it must (docs/scale-out.md).
    """

    def setup_schedule(self) -> None:
        config = load_config()
        self._config = config
        self.app.conf.beat_schedule = beat_schedule(config)
        self._heartbeat_every = heartbeat_every(config)
        self._redis = redis_client()
        self._lock = self._redis.lock(
            store.BEAT_LOCK, timeout=BEAT_LOCK_TTL, blocking_timeout=BEAT_LOCK_TTL + 1
        )
        if not self._lock.acquire():
            raise SystemExit(
                "Cannot start: another celery beat is running against this Redis "
                f"({store.BEAT_LOCK} is held); run exactly one beat."
            )
        self._renewed = -float("inf")
        super().setup_schedule()

    def schedules_equal(self, old_schedules, new_schedules) -> bool:
        # Celery compares every entry on every tick to notice a schedule edited while beat
        # runs; this one is built from the configuration at start and never edited.
        if old_schedules is None or new_schedules is None:
            return old_schedules is new_schedules
        return old_schedules.keys() == new_schedules.keys()

    def tick(self, *args, **kwargs) -> float:
        now = time.monotonic()
        if now - self._renewed >= self._heartbeat_every / 2:
            self._renewed = now
            self._renew()
            self._follow_configuration()
        return min(super().tick(*args, **kwargs), self._heartbeat_every)

    def _follow_configuration(self) -> None:
        """A reloaded configuration (dashboard/siteconfig.py) brings its sites' polls: new
        sites are polled, removed ones no longer, changed intervals take effect."""
        from dashboard.siteconfig import config_version, get_config

        config = get_config()
        if config is self._config:
            return
        self._config = config
        self.app.conf.beat_schedule = beat_schedule(config)
        self.merge_inplace(self.app.conf.beat_schedule)
        self.install_default_entries(self.schedule)
        self._heap = None  # schedules_equal compares names only: rebuild the heap anyway
        self._heartbeat_every = heartbeat_every(config)
        log.info("beat follows configuration version %s: %d polls", config_version(),
                 sum(1 for name in self.schedule if name.startswith("poll ")))

    def _renew(self) -> None:
        """Renew the lock and write the heartbeat."""
        try:
            self._lock.reacquire()
        except redis.exceptions.LockNotOwnedError:
            # Gone with a restarted Redis (or expired while paused): take it again if nobody
            # else did; a second beat holding it means this one must stop.
            if not self._lock.acquire(blocking=False):
                raise SystemExit(
                    "celery beat lost its lock to another beat (paused longer than "
                    f"{BEAT_LOCK_TTL} s?); stopping so that only one beat runs"
                ) from None
            log.warning("celery beat's lock had vanished (Redis restarted?); taken again")
        except redis.RedisError as exc:
            log.warning("cannot renew the beat lock: %s", exc)
        _beat(self._redis, store.BEAT_HEARTBEAT)

    def close(self) -> None:
        super().close()
        with contextlib.suppress(redis.RedisError):
            self._lock.release()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Keeps worker_heartbeat(hostname) fresh while the worker runs; removes it on stop."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.timer_ref = None
        self.redis: redis.Redis | None = None

    def start(self, worker) -> None:
        self.redis = redis_client()
        key = store.worker_heartbeat(worker.hostname)
        _beat(self.redis, key)
        self.timer_ref = worker.timer.call_repeatedly(
            heartbeat_every(load_config()), _beat, (self.redis, key), priority=10
        )

    def stop(self, worker) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
        if self.redis is not None:
            # If Redis is away the key simply expires.
            with contextlib.suppress(redis.RedisError):
                self.redis.delete(store.worker_heartbeat(worker.hostname))
            self.redis.close()


app.steps["worker"].add(WorkerHeartbeat)


@worker_init.connect
def _check_configuration(sender=None, **kwargs) -> None:
    """Refuse to start on a broken configuration."""
    load_config()
