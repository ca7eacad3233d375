"""Pushed values and alarms (SitePoller.record_push) against a real Redis: the same diff,
Redis write, journal, triggers and PUBLISH as a poll, under the same lock."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from tests.poller.stub import NAMES, site_config
from tests.poller.test_poller import journal, make_poller
from wincc_bridge.models import Alarm, AlarmState, Quality, TagValue
from wincc_ingest import codec, store
from wincc_ingest.poller import Pollers


def alarm(state, instance=1):
    return Alarm("plant-a", "Tank_Level_HH", instance, state, priority=12,
                 event_text="Tank level very high")


def test_a_push_writes_only_what_changed_and_announces_it(redis_client, plant, clock, changes):
    poller = make_poller(redis_client, plant, clock)
    poller.poll()
    changes()
    polled_at = clock.now
    clock.advance(0.3)
    source_time = clock.now - timedelta(seconds=0.1)
    outcome = poller.record_push(
        [TagValue("Tank_Level", 55.5, Quality.GOOD, 192, timestamp=source_time),
         TagValue("Conveyor_Running", 0.0, Quality.GOOD, 192)],
        source="subscription")
    assert (outcome.status, outcome.changed_tags, outcome.unknown_tags) == (
        "ok", ("Tank_Level",), ())
    assert changes() == [{"site": "plant-a", "tags": ["Tank_Level"], "alarms": False,
                          "health": False}]
    stored = codec.read_values(redis_client, "plant-a")
    assert stored["Tank_Level"].tag.value == 55.5
    assert stored["Tank_Level"].tag.timestamp == source_time  # the server's own time
    assert stored["Tank_Level"].read_at == clock.now
    assert stored["Conveyor_Running"].read_at == polled_at  # unchanged: not rewritten
    trend = redis_client.lrange(store.site_trend("plant-a", "Tank_Level"), 0, -1)
    assert trend[0] == f"{clock.now.timestamp():.3f} 55.5"  # newest first


def test_a_push_does_not_make_the_site_look_fresh(redis_client, plant, clock):
    poller = make_poller(redis_client, plant, clock)
    poller.poll()
    polled_at = clock.now
    clock.advance(10)
    poller.record_push([TagValue("Tank_Level", 1.0, Quality.UNCERTAIN)], source="rest-connector")
    health = codec.read_health(redis_client, "plant-a")
    assert health.last_success == polled_at
    assert not health.is_current(clock.now)
    assert (health.last_push, health.push_source) == (clock.now, "rest-connector")
    assert (health.tags_uncertain, health.tags_bad, health.tag_count) == (1, 0, 2)
    # The poll after it keeps what is known of pushes.
    poller.poll()
    health = codec.read_health(redis_client, "plant-a")
    assert health.last_success == clock.now and health.last_push == clock.now


def test_a_push_before_any_poll_is_stored_but_not_current(redis_client, plant, clock, changes):
    outcome = make_poller(redis_client, plant, clock).record_push(
        [TagValue("Tank_Level", 3.0, Quality.GOOD)], source="subscription")
    assert outcome.health_changed
    health = codec.read_health(redis_client, "plant-a")
    assert health.last_success is None and not health.is_current(clock.now)
    assert codec.read_values(redis_client, "plant-a")["Tank_Level"].tag.value == 3.0
    assert changes()[0]["health"] is True


def test_unknown_tags_are_reported_never_stored(redis_client, plant, clock):
    outcome = make_poller(redis_client, plant, clock).record_push(
        [TagValue("Not_Here", 1, Quality.GOOD), TagValue("Tank_Level", 2.0, Quality.GOOD),
         TagValue("Not_Here", 2, Quality.GOOD)], source="rest-connector")
    assert outcome.unknown_tags == ("Not_Here",)
    assert outcome.changed_tags == ("Tank_Level",)
    assert set(codec.read_values(redis_client, "plant-a")) == {"Tank_Level"}


def test_pushed_alarms_follow_the_same_journal(redis_client, plant, clock, changes):
    poller = make_poller(redis_client, plant, clock)
    poller.poll()
    changes()
    clock.advance(1)
    outcome = poller.record_push(alarms=[alarm(AlarmState.UNACKNOWLEDGED)],
                                 source="subscription")
    assert outcome.alarms_changed and outcome.journal_events == 1
    assert list(codec.read_alarms(redis_client, "plant-a")) == ["Tank_Level_HH|1"]
    assert changes()[-1]["alarms"] is True
    clock.advance(1)
    poller.record_push(gone=["Tank_Level_HH|1"], source="subscription")
    assert codec.read_alarms(redis_client, "plant-a") == {}
    assert [e["transition"] for e in journal(redis_client)] == ["raised", "returned"]
    assert codec.read_health(redis_client, "plant-a").alarm_count == 0
    # The poll that follows agrees with the pushes: nothing new for the journal.
    clock.advance(1)
    assert poller.poll().journal_events == 0


def test_a_poll_after_a_push_from_another_process_starts_from_redis(redis_client, plant, clock):
    """The subscriber pushed 9 while the worker's memory says 0; the plant is back at 0."""
    worker, subscriber = (make_poller(redis_client, plant, clock),
                          make_poller(redis_client, plant, clock))
    worker.poll()
    subscriber.record_push([TagValue("Tank_Level", 9.0, Quality.GOOD)], source="subscription")
    assert worker.poll().changed_tags == ("Tank_Level",)
    assert codec.read_values(redis_client, "plant-a")["Tank_Level"].tag.value == 0.0


def test_a_push_waits_for_a_poll_holding_the_lock(redis_client, plant, clock):
    lock = redis_client.lock(store.site_lock("plant-a"), timeout=10, thread_local=False)
    assert lock.acquire()
    threading.Timer(0.3, lock.release).start()
    started = time.monotonic()
    outcome = make_poller(redis_client, plant, clock, push_wait=5).record_push(
        [TagValue("Tank_Level", 4.0, Quality.GOOD)], source="subscription")
    assert outcome.status == "ok"
    assert 0.25 < time.monotonic() - started < 3


def test_a_push_that_cannot_get_the_lock_writes_nothing_and_says_so(redis_client, plant, clock):
    redis_client.set(store.site_lock("plant-a"), "a stuck poll", ex=10)
    outcome = make_poller(redis_client, plant, clock, push_wait=0.2).record_push(
        [TagValue("Tank_Level", 4.0, Quality.GOOD), TagValue("Nope", 1, Quality.GOOD)],
        source="subscription")
    assert outcome.status == "busy" and "not recorded" in outcome.error
    assert outcome.unknown_tags == ("Nope",)
    assert codec.read_values(redis_client, "plant-a") == {}
    assert redis_client.get(store.site_lock("plant-a")) == "a stuck poll"


def test_pollers_record_push_by_site(redis_client, plant, clock):
    pollers = Pollers([site_config(names=NAMES)], redis_client, connect=plant.connect,
                      clock=clock)
    outcome = pollers.record_push("plant-a", [TagValue("Tank_Level", 8.0, Quality.GOOD)],
                                  source="rest-connector")
    assert outcome.changed_tags == ("Tank_Level",)
    with pytest.raises(KeyError, match="not in the configuration"):
        pollers.record_push("elsewhere", source="rest-connector")


def test_a_poll_stands_aside_while_a_live_subscription_owns_the_site(redis_client, plant,
                                                                    clock):
    subscribed = make_poller(redis_client, plant, clock, site_options={"ingest": "subscribe"})
    assert store.claim_subscriber(redis_client, "plant-a", "sub-1", 10, "2026-01-05T10:00:00Z")
    assert not store.claim_subscriber(redis_client, "plant-a", "sub-2", 10,
                                      "2026-01-05T10:00:01Z")  # one owner
    # The owner's renewal keeps when its subscription began; another's claim does not move it.
    assert store.claim_subscriber(redis_client, "plant-a", "sub-1", 10, "2026-01-05T10:00:02Z")
    since = store.site_subscribed_since("plant-a")
    assert redis_client.get(since) == "2026-01-05T10:00:00Z"
    assert 0 < redis_client.pttl(since) <= 10_000
    assert subscribed.poll().status == "subscribed" and plant.opened == 0
    assert subscribed.poll(subscriber="sub-1").status == "ok"  # the owner's own resync
    # A site that polls ignores the key; the owner's release hands the site back.
    assert make_poller(redis_client, plant, clock).poll().status == "ok"
    store.release_subscriber(redis_client, "plant-a", "sub-2")
    assert subscribed.poll().status == "subscribed"
    store.release_subscriber(redis_client, "plant-a", "sub-1")
    assert not redis_client.exists(since)
    assert subscribed.poll().status == "ok"


def test_a_subscription_covering_every_tag_confirms_the_site(redis_client, plant, clock):
    poller = make_poller(redis_client, plant, clock)
    poller.poll()
    clock.advance(10)
    plant.error = TimeoutError("no answer")
    poller.poll()
    assert codec.read_health(redis_client, "plant-a").is_failing
    outcome = poller.record_push(source="subscription", covers_all=True)
    health = codec.read_health(redis_client, "plant-a")
    assert health.last_success == clock.now and health.is_current(clock.now)
    assert (outcome.status, outcome.changed_tags, outcome.health_changed) == ("ok", (), True)


def test_a_push_older_than_the_stored_value_is_not_taken(redis_client, plant, clock):
    poller = make_poller(redis_client, plant, clock)
    poller.poll()
    newer = clock.now
    poller.record_push([TagValue("Tank_Level", 70.0, Quality.GOOD, 192, timestamp=newer)],
                       source="rest-connector")
    clock.advance(0.5)
    # Posted before the newer one, arriving after it.
    late = poller.record_push(
        [TagValue("Tank_Level", 60.0, Quality.GOOD, 192, timestamp=newer - timedelta(seconds=1)),
         TagValue("Conveyor_Running", 1.0, Quality.GOOD, 192, timestamp=newer)],
        source="rest-connector")
    assert (late.status, late.outdated_tags) == ("ok", ("Tank_Level",))
    stored = codec.read_values(redis_client, "plant-a")
    assert (stored["Tank_Level"].tag.value, stored["Tank_Level"].tag.timestamp) == (70.0, newer)
    assert stored["Conveyor_Running"].tag.value == 1.0
    # A later value is taken again.
    later = poller.record_push(
        [TagValue("Tank_Level", 61.0, Quality.GOOD, 192, timestamp=clock.now)],
        source="rest-connector")
    assert (later.changed_tags, later.outdated_tags) == (("Tank_Level",), ())
    assert codec.read_values(redis_client, "plant-a")["Tank_Level"].tag.value == 61.0
