"""Push ingest for sites configured `"ingest": "subscribe"` (WinCC Unified): one thread and
one subscription per site, feeding SitePoller.record_push, the poll's own code.

One owner per site: the subscriber holds store.site_subscriber(site) (TTL one poll interval)
only while its subscription is live, i.e. heard from (a change or a keep-alive's answer)
within the interval and every tag delivered once. While the key exists the site's poll
stands aside ("subscribed"); each renewal also confirms the whole site's freshness, since an
unchanged value of a live subscription is a value still true. When the subscription drops
the key is deleted at once; when it goes silent the key is given up after one interval (or
expires on its own if this process dies): beat's next poll of the site runs.

On every (re)subscription the site is polled once, after the socket opened: alarms that
ended while nobody listened are not pushed as "Removed", and the poll brings the truth.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import redis

from wincc_bridge.client import Subscription, WinCCError
from wincc_bridge.models import Alarm, Notification, TagValue, utcnow
from wincc_ingest import codec, store
from wincc_ingest.config import SiteConfig
from wincc_ingest.poller import Backoff, SitePoller, describe_error

log = logging.getLogger(__name__)

SOURCE = "subscription"
HEARTBEAT_EVERY = 10.0  # seconds, well within store.HEARTBEAT_TTL


def subscribed_sites(sites: Iterable[SiteConfig]) -> list[SiteConfig]:
    return [site for site in sites if site.ingest == "subscribe"]


@dataclass
class Pending:
    """Pushes not recorded yet (the site's lock stayed held): offered again, merged with
    what comes next, newest winning."""

    tags: dict[str, TagValue] = field(default_factory=dict)
    alarms: dict[str, Alarm] = field(default_factory=dict)
    gone: dict[str, None] = field(default_factory=dict)

    def add(self, notification: Notification) -> None:
        for tag in notification.tags:
            self.tags[tag.name] = tag
        for alarm in notification.alarms:
            self.gone.pop(alarm.key, None)
            self.alarms[alarm.key] = alarm
        for key in notification.gone:
            self.alarms.pop(key, None)
            self.gone[key] = None

    def clear(self) -> None:
        self.tags.clear()
        self.alarms.clear()
        self.gone.clear()

    def __bool__(self) -> bool:
        return bool(self.tags or self.alarms or self.gone)


@dataclass
class SiteSubscriber:
    """Keeps one site's subscription live, owned and recorded. `run()` until `stop` is set."""

    site: SiteConfig
    poller: SitePoller
    redis: redis.Redis
    subscribe: Callable[[], Subscription]
    stop: threading.Event
    backoff: Backoff = field(default_factory=Backoff)
    owner: str = field(default_factory=lambda: (
        f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"))

    _pending: Pending = field(default_factory=Pending, init=False)
    _confirmed: float = field(default=0.0, init=False)
    _owned: bool = field(default=False, init=False)

    @property
    def interval(self) -> float:
        return self.site.poll_interval

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            subscription = None
            try:
                if self._owned_elsewhere():
                    self.stop.wait(self.interval)
                    continue
                subscription = self.subscribe()
                subscription.open()
                # The truth once, with the socket already listening: nothing falls between.
                self.poller.poll(subscriber=self.owner)
                failures = 0
                self._listen(subscription)
            except WinCCError as exc:
                failures += 1
                self._give_up(f"subscription failed: {describe_error(exc)}", failures)
            except redis.RedisError as exc:
                failures += 1
                self._give_up(f"Redis unreachable: {exc}", failures)
            except Exception as exc:  # a thread that dies would leave the site to polls alone
                failures += 1
                log.exception("site %s: subscriber error", self.site.id)
                self._give_up(f"unexpected error ({type(exc).__name__})", failures)
            finally:
                if subscription is not None:
                    subscription.close()
        self._release()

    def _listen(self, subscription: Subscription) -> None:
        """Record what comes while the subscription lives; return when it went silent."""
        while not self.stop.is_set():
            notification = subscription.receive(self.interval / 2)
            if notification is not None:
                self._pending.add(notification)
            live = (time.monotonic() - subscription.heard <= self.interval
                    and subscription.covers_all)
            if live and not self._claim():
                log.info("site %s: another subscriber owns the subscription", self.site.id)
                return
            if self._pending or (live and self._confirm_due()):
                self._record(covers_all=live)
            if not live and time.monotonic() - subscription.heard > self.interval:
                log.warning("site %s: the subscription went silent for %g s; polling takes "
                            "over", self.site.id, self.interval)
                self._release()
                return

    def _record(self, *, covers_all: bool) -> None:
        pending = self._pending
        outcome = self.poller.record_push(
            list(pending.tags.values()), list(pending.alarms.values()), list(pending.gone),
            source=SOURCE, covers_all=covers_all,
        )
        if outcome.status == "busy":
            log.warning("site %s: %s; offered again with the next push", self.site.id,
                        outcome.error)
            return
        pending.clear()
        if covers_all:
            self._confirmed = time.monotonic()

    def _confirm_due(self) -> bool:
        return time.monotonic() - self._confirmed >= self.interval / 2

    def _claim(self) -> bool:
        self._owned = store.claim_subscriber(self.redis, self.site.id, self.owner,
                                             self.interval, codec.iso(utcnow()))
        return self._owned

    def _owned_elsewhere(self) -> bool:
        owner = self.redis.get(store.site_subscriber(self.site.id))
        if isinstance(owner, bytes):
            owner = owner.decode()
        return owner is not None and owner != self.owner

    def _release(self) -> None:
        if self._owned:
            try:
                store.release_subscriber(self.redis, self.site.id, self.owner)
            except redis.RedisError:
                log.debug("site %s: releasing the subscription failed", self.site.id,
                          exc_info=True)
            self._owned = False

    def _give_up(self, error: str, failures: int) -> None:
        """Hand the site to its polls at once, then wait before subscribing again."""
        self._release()
        self._pending.clear()  # the poll after the next subscription brings the truth
        delay = self.backoff.delay(self.interval, failures)
        log.warning("site %s: %s; polling takes over, subscribing again in %g s",
                    self.site.id, error, delay)
        self.stop.wait(delay)


def run_subscribers(subscribers: Iterable[SiteSubscriber], stop: threading.Event,
                    r: redis.Redis) -> None:
    """One thread per site until `stop` is set; the threads end within a poll interval.
    Meanwhile a heartbeat per host (store.subscriber_heartbeat) says this process lives."""
    threads = [
        threading.Thread(target=sub.run, name=f"subscribe-{sub.site.id}", daemon=True)
        for sub in subscribers
    ]
    for thread in threads:
        thread.start()
    key = store.subscriber_heartbeat(socket.gethostname())
    while True:
        try:
            r.set(key, codec.encode_heartbeat(utcnow()), ex=store.HEARTBEAT_TTL)
        except redis.RedisError:
            log.warning("cannot write the subscriber's heartbeat to Redis", exc_info=True)
        if stop.wait(HEARTBEAT_EVERY):
            break
    for thread in threads:
        thread.join(timeout=30)
