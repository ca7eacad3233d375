"""The sites, their alarms, and the beat and workers, as Prometheus figures read from Redis
at each scrape: whichever web process answers, it reports what the pollers wrote.

Per site, not per tag: a plant has thousands of tags, and a series per tag would multiply a
Prometheus server's load by that much for a figure that is the same for every tag of a site
(each successful poll confirms every value of its site, so a site's data age is the age of
each of its values).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import redis.asyncio as aioredis
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from dashboard import liveness
from wincc_bridge.models import AlarmState, PriorityBand, Quality
from wincc_ingest import codec, store
from wincc_ingest.config import Config

log = logging.getLogger(__name__)

# Every band is reported, zeros included, so a series does not vanish at zero.
BANDS = tuple(PriorityBand)


async def families(client: aioredis.Redis, config: Config, now: datetime) -> list[Metric]:
    """Raises what the Redis client raises: then none of these figures is reported."""
    # Not the values: the health counts them by quality (a plant's thousands of values would
    # take seconds to decode at every scrape).
    reads = [codec.SiteRead(site.id, values=False) for site in config.sites]
    pipe = client.pipeline(transaction=False)
    for read in reads:
        read.queue(pipe)
        pipe.hgetall(store.site_polls(read.site))
    answers = await pipe.execute()
    alive = await liveness.read(client, config, now)

    sites = Sites()
    offset = 0
    for read in reads:
        data = codec.SiteData()
        read.apply(answers[offset:offset + read.commands], data, now)
        sites.add(read.site, data, answers[offset + read.commands], now)
        sites.subscription(read.site, alive.subscriptions.get(read.site))
        offset += read.commands + 1
    return [*sites.families(), *_celery(alive)]


def _celery(alive: liveness.Liveness) -> list[Metric]:
    beat = GaugeMetricFamily(
        "wdash_beat_up", "1 while the beat's heartbeat is recent (within 3 poll intervals).",
        value=float(alive.beat_running))
    workers = GaugeMetricFamily(
        "wdash_workers", "Celery workers whose heartbeat is recent.", value=alive.workers)
    subscribers = GaugeMetricFamily(
        "wdash_subscribers",
        "Subscriber processes (manage.py wincc_subscribe) whose heartbeat is recent (30 s); "
        "counted only while a site is configured to subscribe.", value=alive.subscribers)
    found: list[Metric] = [beat, workers, subscribers]
    if alive.beat is not None:
        found.append(GaugeMetricFamily(
            "wdash_beat_last_heartbeat_timestamp_seconds",
            "When the beat last wrote its heartbeat (Unix time).", value=alive.beat.timestamp()))
    return found


class Sites:
    """The per-site families, filled one site at a time."""

    def __init__(self) -> None:
        def gauge(name: str, text: str, *labels: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, text, labels=["site", *labels])

        def counter(name: str, text: str) -> CounterMetricFamily:
            return CounterMetricFamily(name, text, labels=["site"])

        self.polls = counter("wdash_site_polls", "Poll attempts of the site.")
        self.failures = counter("wdash_site_poll_failures", "Poll attempts that failed.")
        self.duration = HistogramMetricFamily(
            "wdash_site_poll_duration_seconds", "How long each poll attempt took.",
            labels=["site"])
        self.up = gauge("wdash_site_up", "1 when the site's last poll succeeded.")
        self.current = gauge(
            "wdash_site_current",
            "1 when the site is current as the pages show it: a successful poll within 3 "
            "poll intervals and no failure since; 0 when stale, failing or never polled.")
        self.consecutive = gauge(
            "wdash_site_consecutive_failures", "Polls that failed since the last success.")
        self.last_success = gauge(
            "wdash_site_last_success_timestamp_seconds",
            "When the site was last polled successfully (Unix time).")
        self.age = gauge(
            "wdash_site_data_age_seconds",
            "Seconds since the last successful poll: the age of every value the site shows "
            "(each poll confirms all of them), so also its oldest tag's age.")
        self.tags = gauge("wdash_site_tags", "The site's tags by the quality of their value.",
                          "quality")
        self.active = gauge("wdash_site_alarms_active",
                            "Active alarms, shelved ones included, by priority band.",
                            "priority")
        self.unacknowledged = gauge("wdash_site_alarms_unacknowledged",
                                    "Active alarms waiting for acknowledgement.", "priority")
        self.shelved = gauge("wdash_site_alarms_shelved",
                             "Active alarms shelved, in WinCC or on the dashboard.", "priority")
        self.last_push = gauge(
            "wdash_site_last_push_timestamp_seconds",
            "When values were last pushed (a subscription, a REST Connector; Unix time).")
        self.subscription_live = gauge(
            "wdash_site_subscription_live",
            "For a site configured to subscribe: 1 while its subscription is live.")
        self.subscription_since = gauge(
            "wdash_site_subscription_since_timestamp_seconds",
            "When the site's live subscription began (Unix time); absent while not live.")

    def add(self, site: str, data: codec.SiteData, polls: codec.RawHash, now: datetime) -> None:
        self._polls(site, polls)
        health = data.health
        if health is None:  # never polled: only "not current" is known
            self.up.add_metric([site], 0)
            self.current.add_metric([site], 0)
            return
        if health.last_push is not None:
            self.last_push.add_metric([site], health.last_push.timestamp())
        self.up.add_metric([site], float(not health.is_failing))
        self.current.add_metric([site], float(health.is_current(now)))
        self.consecutive.add_metric([site], health.failures)
        age = health.age(now)
        if health.last_success is not None and age is not None:
            self.last_success.add_metric([site], health.last_success.timestamp())
            self.age.add_metric([site], max(0.0, age))
        good = health.tag_count - health.tags_uncertain - health.tags_bad
        for quality, count in ((Quality.GOOD, good), (Quality.UNCERTAIN, health.tags_uncertain),
                               (Quality.BAD, health.tags_bad)):
            self.tags.add_metric([site, quality.value], count)
        if health.has_alarm_list:  # otherwise the site's alarm counts say nothing
            self._alarms(site, data)

    def subscription(self, site: str, subscription: liveness.Subscription | None) -> None:
        if subscription is None:  # the site does not subscribe
            return
        self.subscription_live.add_metric([site], float(subscription.live))
        if subscription.since is not None:
            self.subscription_since.add_metric([site], subscription.since.timestamp())

    def _polls(self, site: str, raw: codec.RawHash) -> None:
        try:
            counts = codec.decode_poll_counts(raw)
        except codec.StoredDataError as exc:
            log.warning("metrics: site %s: %s", site, exc)
            return
        self.polls.add_metric([site], counts.polls)
        self.failures.add_metric([site], counts.failures)
        buckets = [(_bound(le), count) for le, count in counts.buckets]
        self.duration.add_metric([site], buckets, counts.seconds)

    def _alarms(self, site: str, data: codec.SiteData) -> None:
        active: Counter[PriorityBand] = Counter()
        unacknowledged: Counter[PriorityBand] = Counter()
        shelved: Counter[PriorityBand] = Counter()
        for key, alarm in data.alarms.items():
            band = alarm.priority_band
            active[band] += 1
            unacknowledged[band] += alarm.state.needs_acknowledgement
            note = data.notes.get(key)
            shelved[band] += alarm.state is AlarmState.SHELVED or bool(note and note.shelf)
        for band in BANDS:
            self.active.add_metric([site, band.value], active[band])
            self.unacknowledged.add_metric([site, band.value], unacknowledged[band])
            self.shelved.add_metric([site, band.value], shelved[band])

    def families(self) -> Sequence[Metric]:
        return [self.polls, self.failures, self.duration, self.up, self.current,
                self.consecutive, self.last_success, self.age, self.tags, self.active,
                self.unacknowledged, self.shelved, self.last_push, self.subscription_live,
                self.subscription_since]


def _bound(le: float) -> str:
    return "+Inf" if le == float("inf") else repr(le)
