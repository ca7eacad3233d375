"""Poll one site: read its tags and active alarms, diff, and write what changed to Redis.

One `SitePoller` per site per worker process keeps the WinCC client (connections are reused
across polls) and the last snapshot (so a poll costs one diff in memory and one Redis pipeline).
A per-site Redis lock keeps two polls of one site from overlapping, whichever process runs them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis
from redis.lock import Lock as RedisLock

from wincc_bridge.client import (
    ConnectionSettings,
    NotSupportedError,
    ProtocolError,
    WinCCClient,
    WinCCError,
    open_client,
    short_reason,
)
from wincc_bridge.models import Alarm, Capabilities, Quality, TagValue, utcnow
from wincc_bridge.probe import dialects_spoken, wrong_dialect, wrong_dialect_reason
from wincc_ingest import codec, minutes, store
from wincc_ingest.config import SiteConfig
from wincc_ingest.journal import diff_alarms
from wincc_ingest.triggers import Firing, SiteTriggers, Trigger

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Backoff:
    """After failures a site waits interval x 2^(failures-1), never longer than `cap`."""

    cap: float = 30.0

    def delay(self, interval: float, failures: int) -> float:
        return min(self.cap, interval * 2 ** max(0, failures - 1))


@dataclass(frozen=True)
class TimeLimits:
    """Ordered so a poll is always stopped before its lock can expire.

    WinCC timeout < soft limit (the poll records an error) < hard limit (the process is
    killed) < lock TTL. A poll makes at least two requests in a row (tags, then alarms), each
    bounded by the site's timeout, so the soft limit allows two timeouts and a second.
    """

    soft: float
    hard: float
    lock_ttl: float

    @classmethod
    def for_sites(cls, sites: Iterable[SiteConfig]) -> TimeLimits:
        longest = max((site.timeout for site in sites), default=2.0)
        soft = 2 * longest + 1.0
        return cls(soft=soft, hard=soft + 1.0, lock_ttl=soft + 3.0)


@dataclass(frozen=True)
class AlarmRead:
    """The alarm list of one poll: what the server offered (codec.ALARMS_*) and, when it
    was read, the active alarms by key."""

    state: str
    alarms: dict[str, Alarm] | None = None
    checked: datetime | None = None  # when a missing list was last asked for


@dataclass(frozen=True)
class PollOutcome:
    site: str
    status: str  # "ok" | "failed" | "backing off" | "busy" | "subscribed"
    changed_tags: tuple[str, ...] = ()
    alarms_changed: bool = False
    health_changed: bool = False
    journal_events: int = 0
    error: str = ""
    # Pushed tag names the site's configuration does not have: reported, never stored.
    unknown_tags: tuple[str, ...] = ()
    # Pushed values older (by their source time) than the stored ones: not taken.
    outdated_tags: tuple[str, ...] = ()


def describe_error(exc: BaseException) -> str:
    """A plain sentence for the health's last_error."""
    if isinstance(exc, WinCCError):
        return str(exc) or type(exc).__name__
    text = str(exc)
    return f"unexpected error ({type(exc).__name__}){': ' + text if text else ''}"


def _process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class _SiteLock(RedisLock):
    """The site's lock, taken in the same round trip as the read of the site's health
    (`health`, read after the lock was set), one round trip to Redis fewer per poll or push."""

    health_key = ""
    health: codec.RawHash = {}

    def do_acquire(self, token: str) -> bool:
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self.name, token, nx=True, px=int(self.timeout * 1000) if self.timeout else None)
        pipe.hgetall(self.health_key)
        acquired, self.health = pipe.execute()
        return bool(acquired)


@dataclass
class SitePoller:
    """Polls one site, and records what the site pushes. One per site per process: a poll
    and pushes on other threads take turns by the site's lock, which guards the memory too."""

    site: SiteConfig
    redis: redis.Redis
    limits: TimeLimits
    backoff: Backoff = field(default_factory=Backoff)
    connect: Callable[[ConnectionSettings], WinCCClient] = open_client
    clock: Callable[[], datetime] = utcnow
    # Exceptions meaning "the poll ran out of time" (Celery's soft time limit), if any.
    overrun: tuple[type[BaseException], ...] = ()
    # Integration triggers (wincc_ingest.triggers), and what queues their deliveries; a
    # failing `dispatch` fails the poll before anything is written, so the next poll fires
    # again (at least once; the receiver deduplicates by the event's id).
    triggers: Sequence[Trigger] = ()
    dispatch: Callable[[Sequence[Firing]], None] | None = None
    # Seconds a push waits for the site's lock (a poll may hold it); None: the soft time
    # limit, by which any poll has let go of it.
    push_wait: float | None = None

    # Seconds before a server found without an alarm list is asked for it again, so a
    # server upgraded later gains its alarms without a restart.
    alarm_reprobe: float = 600.0
    # Which other dialects a server answers (asked without credentials), for a site whose
    # requests find no such endpoint or an answer of another kind.
    probe: Callable[[ConnectionSettings, str], list[str]] = field(
        default=lambda settings, configured: dialects_spoken(settings, skip=configured))

    _client: WinCCClient | None = field(default=None, init=False, repr=False)
    # What the server offers, less what the site's configuration turns off.
    _offered: Capabilities = field(default_factory=Capabilities, init=False, repr=False)
    _values: dict[str, codec.Fingerprint] = field(default_factory=dict, init=False, repr=False)
    _alarms: dict[str, Alarm] = field(default_factory=dict, init=False, repr=False)
    # The "writer" stamp of our last write; another stamp in Redis means our snapshot is old.
    _written: str | None = field(default=None, init=False)
    _writes: int = field(default=0, init=False)
    _triggers: SiteTriggers = field(init=False, repr=False)
    # The site's open minute of the trend store, as this process last wrote it.
    _minute: minutes.OpenMinute = field(init=False, repr=False)
    # The failure the server was last asked about (which dialects it speaks).
    _dialect_asked: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        self._triggers = SiteTriggers(self.site.id, self.triggers)
        self._minute = minutes.OpenMinute(self.site.id)

    @property
    def names(self) -> list[str]:
        return [tag.name for tag in self.site.tags]

    def poll(self, *, subscriber: str = "") -> PollOutcome:
        """Poll the site now. A site whose live subscription another subscriber owns is
        left to it ("subscribed"); `subscriber` names the caller's own subscription."""
        if self.site.ingest == "subscribe":
            owner = self.redis.get(store.site_subscriber(self.site.id))
            if isinstance(owner, bytes):
                owner = owner.decode()
            if owner is not None and owner != subscriber:
                return PollOutcome(self.site.id, "subscribed")
        with self._locked("poll") as health:
            if health is None:
                return PollOutcome(self.site.id, "busy")
            return self._poll_locked(health)

    @contextlib.contextmanager
    def _locked(self, what: str, wait: float | None = None) -> Iterator[codec.RawHash | None]:
        """The site's lock, taken without waiting or for up to `wait` seconds, with the site's
        health read in the same round trip; None when another holds the lock."""
        lock = self.redis.lock(
            store.site_lock(self.site.id), timeout=self.limits.lock_ttl,
            blocking=wait is not None, blocking_timeout=wait, lock_class=_SiteLock,
        )
        lock.health_key = store.site_health(self.site.id)
        if not lock.acquire():
            yield None
            return
        try:
            yield lock.health
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                log.warning("site %s: the %s outlived its lock", self.site.id, what)

    def record_push(
        self,
        tags: Iterable[TagValue] = (),
        alarms: Iterable[Alarm] = (),
        gone: Iterable[str] = (),
        *,
        source: str,
        covers_all: bool = False,
    ) -> PollOutcome:
        """Record values and alarms the server pushed, through the same diff, Redis write,
        journal, triggers and PUBLISH as a poll.

        `covers_all`: the source is a live subscription to every configured tag and has
        delivered each once, so a value not pushed is a value unchanged: the push confirms
        the whole site as a good poll does (last_success, no failures).

        `tags` carry their own source time and quality; names the site does not configure
        come back in `unknown_tags` and are not stored. `alarms` are alarms raised or
        changed, `gone` the keys (Alarm.key) of alarms no longer active. A push confirms
        only what it carries: the site's last good poll (its freshness) stays as it was.

        A push waits up to `push_wait` for the site's lock instead of giving up, since a
        dropped push is a lost change. If the lock stays held, nothing is written and the
        outcome is "busy": the caller keeps the push and offers it again (the next full read
        brings the truth anyway). Errors (Redis, queueing a trigger) are raised: nothing was
        recorded.
        """
        configured = set(self.names)
        pushed: dict[str, TagValue] = {}
        unknown: list[str] = []
        for tag in tags:
            if tag.name in configured:
                pushed[tag.name] = tag
            elif tag.name not in unknown:
                unknown.append(tag.name)
        if unknown:
            log.info("site %s: %s pushed tags not configured here: %s",
                     self.site.id, source, ", ".join(unknown))
        wait = self.limits.soft if self.push_wait is None else self.push_wait
        with self._locked("push", wait=wait) as health:
            if health is None:
                return PollOutcome(
                    self.site.id, "busy", unknown_tags=tuple(unknown),
                    error=f"the site's lock stayed held for {wait:g} s; the push was not recorded",
                )
            previous = self._previous_health(health)
            self._sync_snapshot(previous)
            outdated = self._outdated(pushed.values())
            outcome = self._record(
                previous, [tag for name, tag in pushed.items() if name not in outdated],
                self._pushed_alarms(previous, alarms, gone),
                push_source=source, covers_all=covers_all,
            )
        if outdated:
            log.info("site %s: %s pushed values older than those stored, not taken: %s",
                     self.site.id, source, ", ".join(outdated))
        return dataclasses.replace(outcome, unknown_tags=tuple(unknown),
                                   outdated_tags=tuple(outdated))

    def _outdated(self, tags: Iterable[TagValue]) -> list[str]:
        """Pushed values whose source time is before the stored one's: a push that arrives
        after a poll (or a later push) read a newer value must not put the old one back."""
        dated = [tag for tag in tags if tag.timestamp is not None]
        if not dated:
            return []
        stored = self.redis.hmget(store.site_values(self.site.id), [tag.name for tag in dated])
        outdated = []
        for tag, raw in zip(dated, stored, strict=True):
            if raw is None:
                continue
            try:
                before = codec.decode_value(raw, tag.name).tag.timestamp
            except codec.StoredDataError:
                continue  # rewritten by this push
            pushed_at = tag.timestamp
            assert pushed_at is not None
            # A server's times are all zoned or all not; a mix cannot be ordered, so it is taken.
            if (before is not None and (before.tzinfo is None) == (pushed_at.tzinfo is None)
                    and pushed_at < before):
                outdated.append(tag.name)
        return outdated

    def _pushed_alarms(
        self, previous: codec.SiteHealth | None, alarms: Iterable[Alarm], gone: Iterable[str]
    ) -> AlarmRead:
        """The site's alarm list after a push: the last one known, changed by the push.
        Pushed alarms count only where the site's alarm list is read at all (as the last
        poll found it)."""
        state = previous.alarm_list if previous else codec.ALARMS_OFFERED
        if not self.site.alarms:
            state = codec.ALARMS_OFF
        if state != codec.ALARMS_OFFERED:
            checked = previous.alarm_list_checked if previous else None
            return AlarmRead(state, checked=checked)
        current = dict(self._alarms)
        for key in gone:
            current.pop(key, None)
        for alarm in alarms:
            current[alarm.key] = alarm
        return AlarmRead(codec.ALARMS_OFFERED, current)

    def close(self) -> None:
        self._drop_client()

    def _poll_locked(self, raw_health: codec.RawHash) -> PollOutcome:
        started_at = self.clock()
        previous = self._previous_health(raw_health)
        if (
            previous is not None
            and previous.failures
            and previous.backoff_until is not None
            and started_at < previous.backoff_until
        ):
            return PollOutcome(self.site.id, "backing off", error=previous.last_error)

        started = time.monotonic()
        try:
            tags, alarms = self._read(previous, started_at)
        except Exception as exc:  # any failure of one poll is recorded, never raised
            latency = time.monotonic() - started
            self._drop_client()
            return self._record_failure(previous, started_at, started, latency, exc)
        latency = time.monotonic() - started
        self._sync_snapshot(previous)
        return self._record(previous, tags, alarms,
                            timing=(started_at, started, latency))

    def _previous_health(self, raw: codec.RawHash) -> codec.SiteHealth | None:
        if not raw:
            return None
        try:
            return codec.decode_health(raw)
        except codec.StoredDataError:
            log.warning("site %s: unreadable health in Redis, starting afresh", self.site.id)
            return None

    # --- talking to WinCC ------------------------------------------------------------------

    def _read(
        self, previous: codec.SiteHealth | None, now: datetime
    ) -> tuple[list[TagValue], AlarmRead]:
        if self._client is None:
            self._client = self.connect(self.site.connection())
            self._offered = self.site.restrict(self._client.capabilities())
        names = self.names
        tags = self._in_order(names, self._client.read_tags(names)) if names else []
        if not self._offered.active_alarms:
            return tags, AlarmRead(codec.ALARMS_OFF)
        if (
            previous is not None
            and previous.alarm_list == codec.ALARMS_MISSING
            and previous.alarm_list_checked is not None
            and now - previous.alarm_list_checked < timedelta(seconds=self.alarm_reprobe)
        ):
            return tags, AlarmRead(codec.ALARMS_MISSING, checked=previous.alarm_list_checked)
        try:
            alarms = {alarm.key: alarm for alarm in self._client.active_alarms()}
        except NotSupportedError as exc:
            # The server has no alarm list: its tags are still worth showing.
            if previous is None or previous.alarm_list != codec.ALARMS_MISSING:
                log.warning(
                    "site %s: %s; polling tags only, asking again every %g s",
                    self.site.id, exc, self.alarm_reprobe,
                )
            return tags, AlarmRead(codec.ALARMS_MISSING, checked=now)
        return tags, AlarmRead(codec.ALARMS_OFFERED, alarms)

    def _in_order(self, names: Sequence[str], read: Sequence[TagValue]) -> list[TagValue]:
        """One value per configured tag; a tag the server left out is bad, with the reason."""
        by_name = {tag.name: tag for tag in read}
        return [
            by_name.get(name)
            or TagValue(name, None, Quality.BAD, error="the server returned no value for it")
            for name in names
        ]

    def _drop_client(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # a broken connection may fail to close; it is dropped anyway
                log.debug("site %s: closing the client failed", self.site.id, exc_info=True)
            self._client = None

    # --- writing Redis -----------------------------------------------------------------------

    def _sync_snapshot(self, previous: codec.SiteHealth | None) -> None:
        """Start again from Redis when someone else wrote the site since our last write."""
        writer = previous.writer if previous else ""
        if writer != self._written:
            self._load_snapshot()
            self._written = writer

    def _load_snapshot(self) -> None:
        """After a restart, or when another process polled the site: start from Redis."""
        site = self.site.id
        self._minute.forget()
        self._values = {}
        for name, raw in codec.text_hash(self.redis.hgetall(store.site_values(site))).items():
            # An unreadable entry is left out, so this poll rewrites it.
            with contextlib.suppress(codec.StoredDataError):
                self._values[name] = codec.fingerprint(codec.decode_value(raw, name).tag)
        self._alarms = {}
        for key, raw in codec.text_hash(self.redis.hgetall(store.site_alarms(site))).items():
            try:
                self._alarms[key] = codec.decode_alarm(raw)
            except codec.StoredDataError:
                log.warning("site %s: unreadable alarm %s in Redis is replaced", site, key)
        if self._triggers:
            self._load_trigger_states()

    def _load_trigger_states(self) -> None:
        states = {}
        raw_states = self.redis.hgetall(store.site_triggers(self.site.id))
        for slot, raw in codec.text_hash(raw_states).items():
            if not self._triggers.known(slot):
                continue  # a trigger no longer configured
            try:
                states[slot] = codec.decode_trigger_state(raw)
            except codec.StoredDataError:
                log.warning("site %s: unreadable trigger state %s is reset", self.site.id, slot)
        self._triggers.states = states

    def _record(
        self,
        previous: codec.SiteHealth | None,
        tags: list[TagValue],
        alarm_read: AlarmRead,
        *,
        timing: tuple[datetime, float, float] | None = None,
        push_source: str = "",
        covers_all: bool = False,
    ) -> PollOutcome:
        """Write what a poll read (every configured tag, `timing`: its start time, monotonic
        start and WinCC's latency) or what a push brought (`push_source`: only the tags it
        carries) to Redis in one pipeline, and announce it."""
        site = self.site.id
        is_poll = timing is not None
        alarms = alarm_read.alarms
        read_at = self.clock()
        epoch = read_at.timestamp()
        pipe = self.redis.pipeline(transaction=True)

        changed: codec.Fields = {}
        fingerprints = {}
        samples = {}
        read_at_text = codec.iso(read_at)  # once, not once per changed tag
        epoch_text = codec.trend_time(epoch)
        for tag in tags:
            fingerprint = codec.fingerprint(tag)
            if self._values.get(tag.name) != fingerprint:
                fingerprints[tag.name] = fingerprint
                changed[tag.name] = codec.encode_value(tag, read_at_text)
                sample = codec.encode_trend_sample(tag, epoch_text)
                if sample is not None:
                    samples[tag.name] = sample
        if changed:
            pipe.hset(store.site_values(site), mapping=changed)
        store.push_trends(pipe, site, samples)
        # Every value read, changed or not, counts towards its minute in the trend store.
        minute = self._minute.add(pipe, self.redis, epoch, tags)
        # A poll reads every configured tag: what it did not read is no longer configured.
        stale = self._values.keys() - {tag.name for tag in tags} if is_poll else set()
        if stale:
            pipe.hdel(store.site_values(site), *stale)
        snapshot = {name: fp for name, fp in self._values.items() if name not in stale}
        snapshot.update(fingerprints)

        events = []
        list_changed = (previous.alarm_list if previous else codec.ALARMS_OFFERED) != (
            alarm_read.state
        )
        alarms_changed = list_changed
        current_alarms = {} if alarms is None else alarms
        if alarms is None and self._alarms:
            # No list to read: alarms read before are not shown as if still active. No
            # journal entries either: nobody saw them clear.
            pipe.delete(store.site_alarms(site))
            alarms_changed = True
        if alarms is not None:
            updated: codec.Fields = {
                key: codec.encode_alarm(alarm)
                for key, alarm in alarms.items()
                if self._alarms.get(key) != alarm
            }
            gone = self._alarms.keys() - alarms.keys()
            if updated:
                pipe.hset(store.site_alarms(site), mapping=updated)
            if gone:
                pipe.hdel(store.site_alarms(site), *gone)
            alarms_changed = alarms_changed or bool(updated or gone)
            events = diff_alarms(site, self._alarms, alarms, read_at)
            for event in events:
                pipe.xadd(
                    store.JOURNAL_STREAM,
                    codec.encode_journal_event(event),
                    maxlen=store.JOURNAL_MAXLEN,
                    approximate=True,
                )

        evaluation = self._fire_triggers(pipe, tags, events, read_at)

        self._writes += 1
        stamp = f"{_process_id()}:{id(self)}:{self._writes}"
        qualities = [fp[1] for fp in snapshot.values()]
        if timing is not None:
            started_at, started, latency = timing
            seconds = time.monotonic() - started
            health = codec.SiteHealth(
                site=site,
                interval=self.site.poll_interval,
                last_attempt=started_at,
                last_success=read_at,
                duration_ms=seconds * 1000,
                latency_ms=latency * 1000,
                failures=0,
                last_error="",
                backoff_until=None,
                tag_count=len(tags),
                alarm_count=0,
                last_push=previous.last_push if previous else None,
                push_source=previous.push_source if previous else "",
            )
            codec.count_poll(pipe, site, failed=False, seconds=seconds)
        else:
            # A push leaves the poll's record (last success, failures) as it was, unless
            # its subscription covers every tag.
            health = dataclasses.replace(
                previous or self._unpolled_health(), last_push=read_at, push_source=push_source)
            if covers_all:
                health = dataclasses.replace(
                    health, last_attempt=read_at, last_success=read_at, failures=0,
                    last_error="", reason="", backoff_until=None)
        health = dataclasses.replace(
            health,
            writer=stamp,
            alarm_count=len(current_alarms),
            alarm_list=alarm_read.state,
            alarm_list_checked=alarm_read.checked,
            tags_uncertain=qualities.count(Quality.UNCERTAIN.value),
            tags_bad=qualities.count(Quality.BAD.value),
        )
        confirms = is_poll or covers_all
        health_changed = previous is None or list_changed or (confirms and (
            previous.failures > 0 or previous.last_success is None))
        pipe.hset(store.site_health(site), mapping=codec.encode_health(health))
        if changed or alarms_changed or health_changed:
            change = codec.Change(site, tuple(fingerprints), alarms_changed, health_changed)
            pipe.publish(store.CHANGES_CHANNEL, codec.encode_change(change))
        pipe.execute()

        # Only now, with Redis written, does memory move on.
        self._values = snapshot
        self._minute.commit(minute)
        self._alarms = dict(current_alarms)
        if evaluation is not None:
            self._triggers.commit(evaluation)
        self._written = stamp
        if confirms and previous is not None and previous.failures:
            log.info("site %s answers again after %d failed polls", site, previous.failures)
        return PollOutcome(
            site,
            "ok",
            changed_tags=tuple(fingerprints),
            alarms_changed=alarms_changed,
            health_changed=health_changed,
            journal_events=len(events),
        )

    def _unpolled_health(self) -> codec.SiteHealth:
        """The health of a site pushed to before any poll: never polled, so not current."""
        return codec.SiteHealth(
            site=self.site.id, interval=self.site.poll_interval, last_attempt=None,
            last_success=None, duration_ms=None, latency_ms=None, failures=0, last_error="",
            backoff_until=None, tag_count=len(self.site.tags), alarm_count=0,
        )

    def _fire_triggers(self, pipe: Any, tags: Sequence[TagValue], events: Sequence[Any],
                       now: datetime) -> Any:
        """Evaluate the triggers on this poll's values and transitions; queue what fires and
        add the changed trigger state to the pipeline."""
        if not self._triggers:
            return None
        evaluation = self._triggers.evaluate(tags, events, now)
        if evaluation.firings and self.dispatch is not None:
            self.dispatch(evaluation.firings)
        key = store.site_triggers(self.site.id)
        if evaluation.changed:
            pipe.hset(key, mapping={
                slot: codec.encode_trigger_state(state)
                for slot, state in evaluation.changed.items()
            })
        if evaluation.removed:
            pipe.hdel(key, *evaluation.removed)
        return evaluation

    def _record_failure(
        self,
        previous: codec.SiteHealth | None,
        started_at: datetime,
        started: float,
        latency: float,
        exc: BaseException,
    ) -> PollOutcome:
        site = self.site.id
        if self.overrun and isinstance(exc, self.overrun):
            error = f"the poll did not finish within its time limit of {self.limits.soft:g} s"
            reason = "poll too slow"
        else:
            error, reason = describe_error(exc), short_reason(exc)
            error, reason = self._dialect_hint(exc, error, reason, previous)
        failures = (previous.failures if previous else 0) + 1
        now = self.clock()
        backoff_until = now + timedelta(
            seconds=self.backoff.delay(self.site.poll_interval, failures)
        )
        seconds = time.monotonic() - started
        health = codec.SiteHealth(
            site=site,
            interval=self.site.poll_interval,
            last_attempt=started_at,
            last_success=previous.last_success if previous else None,
            duration_ms=seconds * 1000,
            latency_ms=latency * 1000,
            failures=failures,
            last_error=error,
            backoff_until=backoff_until,
            tag_count=len(self.site.tags),
            alarm_count=previous.alarm_count if previous else 0,
            writer=previous.writer if previous else "",
            reason=reason,
            # What the last good poll learned about the alarm list still holds.
            alarm_list=previous.alarm_list if previous else codec.ALARMS_OFFERED,
            alarm_list_checked=previous.alarm_list_checked if previous else None,
            # The values shown are still those of the last good poll.
            tags_uncertain=previous.tags_uncertain if previous else 0,
            tags_bad=previous.tags_bad if previous else 0,
            last_push=previous.last_push if previous else None,
            push_source=previous.push_source if previous else "",
        )
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(store.site_health(site), mapping=codec.encode_health(health))
        codec.count_poll(pipe, site, failed=True, seconds=seconds)
        pipe.publish(store.CHANGES_CHANNEL, codec.encode_change(codec.Change(site, health=True)))
        pipe.execute()
        if previous is None or previous.last_error != error:
            if isinstance(exc, WinCCError):
                log.warning("site %s: poll failed: %s", site, error)
            else:
                log.exception("site %s: poll failed: %s", site, error, exc_info=exc)
        return PollOutcome(site, "failed", health_changed=True, error=error)


    def _dialect_hint(self, exc: BaseException, error: str, reason: str,
                      previous: codec.SiteHealth | None) -> tuple[str, str]:
        """A wrong dialect in the words the eye reads (tile and /sites/), not only "no such
        endpoint". The server is asked once per failure and worker process: while the same
        failure repeats, the previous poll's answer holds."""
        if not isinstance(exc, NotSupportedError | ProtocolError):
            return error, reason
        if error == self._dialect_asked:
            if previous is not None and previous.last_error.startswith(error):
                return previous.last_error, previous.reason
            return error, reason
        self._dialect_asked = error
        try:
            spoken = self.probe(self.site.connection(), self.site.dialect)
        except WinCCError:
            return error, reason
        if not spoken or self.site.dialect in spoken:
            return error, reason
        return (f"{error}; {wrong_dialect(spoken, self.site.dialect)}",
                wrong_dialect_reason(spoken))


class Pollers:
    """The pollers of one worker process, one per configured site, made on first use."""

    def __init__(self, sites: Iterable[SiteConfig], redis_client: redis.Redis, **options: Any):
        self._sites = {site.id: site for site in sites}
        self._redis = redis_client
        self._options = options
        self._options.setdefault("limits", TimeLimits.for_sites(self._sites.values()))
        self._pollers: dict[str, SitePoller] = {}
        self._making = threading.Lock()

    def poll(self, site_id: str) -> PollOutcome:
        return self.poller(site_id).poll()

    def record_push(
        self,
        site_id: str,
        tags: Iterable[TagValue] = (),
        alarms: Iterable[Alarm] = (),
        gone: Iterable[str] = (),
        *,
        source: str,
        covers_all: bool = False,
    ) -> PollOutcome:
        """SitePoller.record_push for one site; KeyError for a site not configured."""
        return self.poller(site_id).record_push(tags, alarms, gone, source=source,
                                                covers_all=covers_all)

    def poller(self, site_id: str) -> SitePoller:
        with self._making:  # pushes may arrive on several threads
            poller = self._pollers.get(site_id)
            if poller is None:
                site = self._sites.get(site_id)
                if site is None:
                    known = ", ".join(sorted(self._sites)) or "none"
                    raise KeyError(
                        f"site {site_id!r} is not in the configuration (known: {known})")
                poller = self._pollers[site_id] = SitePoller(site, self._redis, **self._options)
            return poller

    def close(self) -> None:
        for poller in self._pollers.values():
            poller.close()
        self._pollers.clear()
