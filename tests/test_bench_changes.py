"""The benchmarks' one listener to the change channel (bench/changes.py), and P1's and P8's
use of it, against the tests' own Redis: each hears only the changes it wants and reads
what Redis holds with them."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import redis

from bench import p1_end_to_end as p1
from bench import p8_acknowledge as p8
from bench.changes import ChangeListener
from tests.dashboard.livedata import alarm, put_health, put_value
from tests.harness.processes import wait_until
from wincc_bridge.models import AlarmState
from wincc_ingest import codec, store


def stack(redis_url: str) -> SimpleNamespace:
    return SimpleNamespace(redis=lambda: redis.Redis.from_url(redis_url, decode_responses=True))


def publish(r, site: str, tags=(), alarms=False) -> None:
    r.publish(store.CHANGES_CHANNEL, codec.encode_change(codec.Change(site, tuple(tags), alarms)))


class Heard(ChangeListener):
    def __init__(self, stack, stop) -> None:
        super().__init__(stack, stop)
        self.heard: list[tuple[codec.Change, float]] = []

    def wanted(self, change: codec.Change) -> bool:
        return change.site == "wanted"

    def seen(self, change: codec.Change, at: float) -> None:
        self.heard.append((change, at))


def listening(listener: ChangeListener, r) -> None:
    """Started, and subscribed before the test publishes."""
    listener.start()
    wait_until(lambda: r.pubsub_numsub(store.CHANGES_CHANNEL)[0][1] >= 1, timeout=5)


def stopped(listener: ChangeListener, stop: threading.Event) -> None:
    stop.set()
    listener.join(5)
    assert not listener.is_alive()


def test_only_wanted_changes_are_seen_with_their_arrival(redis_client, redis_url):
    stop = threading.Event()
    listener = Heard(stack(redis_url), stop)
    listening(listener, redis_client)
    before = time.time()
    publish(redis_client, "other", ["Tank_Level"])
    publish(redis_client, "wanted", ["Tank_Level"], alarms=True)
    wait_until(lambda: listener.heard, timeout=5)
    stopped(listener, stop)
    [(change, at)] = listener.heard
    assert change == codec.Change("wanted", ("Tank_Level",), alarms=True)
    assert before <= at <= time.time()


def test_p1_reads_the_value_and_the_poll_with_each_change_of_its_tag(redis_client, redis_url):
    put_value(redis_client, p1.SITE, p1.TAG, 42.5)
    put_health(redis_client, p1.SITE)
    stop = threading.Event()
    listener = p1.ChangeListener(stack(redis_url), stop)
    listening(listener, redis_client)
    publish(redis_client, p1.SITE, ["Tank_Outflow"])  # not its tag
    publish(redis_client, "elsewhere", [p1.TAG])  # not its site
    publish(redis_client, p1.SITE, [p1.TAG])
    wait_until(lambda: listener.events, timeout=5)
    time.sleep(0.2)  # nothing else comes
    stopped(listener, stop)
    [event] = listener.events
    assert event["value"] == 42.5 and event["latency_ms"] == 8.0
    assert event["read_at"] <= event["published_seen"]


class CountedStoredState(p8.StoredState):
    """P8's listener, counting the changes it looked at, so the test knows when one was."""

    looked = 0

    def seen(self, change: codec.Change, at: float) -> None:
        super().seen(change, at)
        self.looked += 1


def test_p8_stamps_when_redis_first_holds_the_watched_alarm_acknowledged(redis_client,
                                                                          redis_url):
    raised = alarm(site=p8.SITE, name=p8.ALARMS[0], state=AlarmState.UNACKNOWLEDGED)
    key = store.site_alarms(p8.SITE)
    redis_client.hset(key, raised.key, codec.encode_alarm(raised))
    put_health(redis_client, p8.SITE)
    stop = threading.Event()
    listener = CountedStoredState(stack(redis_url), stop)
    listener.watch(raised.key)
    listening(listener, redis_client)
    publish(redis_client, p8.SITE, alarms=True)  # still unacknowledged
    wait_until(lambda: listener.looked == 1, timeout=5)
    assert listener.acknowledged_at is None
    acknowledged = alarm(site=p8.SITE, name=p8.ALARMS[0], state=AlarmState.ACKNOWLEDGED)
    redis_client.hset(key, raised.key, codec.encode_alarm(acknowledged))
    publish(redis_client, p8.SITE, ["Oven_Zone1_Temp"])  # no alarm change: not read
    time.sleep(0.3)
    assert listener.acknowledged_at is None
    before = time.time()
    publish(redis_client, p8.SITE, alarms=True)
    wait_until(lambda: listener.acknowledged_at is not None, timeout=5)
    stopped(listener, stop)
    assert before <= listener.acknowledged_at <= time.time()
    assert listener.poll["site"] == p8.SITE
