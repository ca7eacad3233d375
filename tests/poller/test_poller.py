"""The poller's own logic against a real Redis, with a stub WinCC client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.poller.stub import NAMES, site_config
from wincc_bridge.client import AuthError, TimeoutError
from wincc_bridge.models import Alarm, AlarmState, Quality
from wincc_ingest import codec, store
from wincc_ingest.poller import Backoff, Pollers, SitePoller, TimeLimits


def make_poller(redis_client, plant, clock, site_options=None, **options):
    site = site_config(names=NAMES, **(site_options or {}))
    return SitePoller(site, redis_client, TimeLimits.for_sites([site]), connect=plant.connect,
                      clock=clock, **options)


def journal(redis_client):
    return [fields for _, fields in redis_client.xrange(store.JOURNAL_STREAM)]


def test_first_poll_writes_every_value_and_announces_it(redis_client, plant, clock, changes):
    plant.values.update(Tank_Level=42.5, Conveyor_Running=True)
    outcome = make_poller(redis_client, plant, clock).poll()
    assert outcome.status == "ok"
    values = codec.read_values(redis_client, "plant-a")
    assert values["Tank_Level"].tag.value == 42.5
    assert values["Conveyor_Running"].tag.value is True
    assert values["Tank_Level"].read_at == clock.now
    health = codec.read_health(redis_client, "plant-a")
    assert health.is_current(clock.now)
    assert (health.tag_count, health.alarm_count, health.failures) == (2, 0, 0)
    assert changes() == [{"site": "plant-a", "tags": NAMES, "alarms": False, "health": True}]
    assert redis_client.lrange(store.site_trend("plant-a", "Conveyor_Running"), 0, -1) == [
        f"{clock.now.timestamp():.3f} 1"]


def test_only_changes_are_written_and_published(redis_client, plant, clock, changes):
    poller = make_poller(redis_client, plant, clock)
    poller.poll()
    changes()
    first_read = clock.now

    clock.advance(1)
    assert poller.poll().changed_tags == ()
    assert changes() == []
    assert codec.read_health(redis_client, "plant-a").last_success == clock.now

    clock.advance(1)
    plant.values["Tank_Level"] = 50.0
    assert poller.poll().changed_tags == ("Tank_Level",)
    assert changes() == [{"site": "plant-a", "tags": ["Tank_Level"], "alarms": False,
                          "health": False}]
    values = codec.read_values(redis_client, "plant-a")
    assert values["Tank_Level"].read_at == clock.now
    assert values["Conveyor_Running"].read_at == first_read
    trend = redis_client.lrange(store.site_trend("plant-a", "Tank_Level"), 0, -1)
    assert [sample.split()[1] for sample in trend] == ["50.0", "0.0"]


def test_a_missing_value_is_bad_and_says_why(redis_client, plant, clock):
    plant.omit = {"Tank_Level"}
    make_poller(redis_client, plant, clock).poll()
    tag = codec.read_values(redis_client, "plant-a")["Tank_Level"].tag
    assert tag.quality is Quality.BAD
    assert tag.error == "the server returned no value for it"


def test_health_counts_the_tags_by_quality_and_a_failure_keeps_them(
        redis_client, plant, clock):
    poller = make_poller(redis_client, plant, clock)
    plant.omit = {"Tank_Level"}  # the server leaves it out: a bad value
    poller.poll()
    health = codec.read_health(redis_client, "plant-a")
    assert (health.tag_count, health.tags_uncertain, health.tags_bad) == (2, 0, 1)
    clock.advance(1)
    plant.error = TimeoutError("timed out after 2.0 s")
    poller.poll()
    health = codec.read_health(redis_client, "plant-a")
    assert (health.failures, health.tags_bad) == (1, 1)


def test_failure_is_recorded_values_kept_but_not_current(redis_client, plant, clock, changes):
    poller = make_poller(redis_client, plant, clock)
    poller.poll()
    changes()
    clock.advance(1)
    plant.error = AuthError("login refused for user api_ro")
    outcome = poller.poll()
    assert (outcome.status, outcome.error) == ("failed", "login refused for user api_ro")
    health = codec.read_health(redis_client, "plant-a")
    assert health.failures == 1
    assert health.last_error == "login refused for user api_ro"
    assert health.reason == "login refused"
    assert health.last_success == clock.now - timedelta(seconds=1)
    assert health.is_failing and not health.is_current(clock.now)
    assert health.backoff_until == clock.now + timedelta(seconds=1)
    assert codec.read_values(redis_client, "plant-a")["Tank_Level"].tag.value == 0.0
    assert changes() == [{"site": "plant-a", "tags": [], "alarms": False, "health": True}]
    assert plant.closed == 1  # the broken client is dropped, a new one made next time


def test_backoff_grows_is_capped_and_recovers(redis_client, plant, clock, changes):
    poller = make_poller(redis_client, plant, clock, backoff=Backoff(cap=4.0))
    plant.error = TimeoutError("timed out after 2.0 s")
    delays = []
    for _ in range(5):
        assert poller.poll().status == "failed"
        health = codec.read_health(redis_client, "plant-a")
        delays.append((health.backoff_until - clock.now).total_seconds())
        opened = plant.opened
        assert poller.poll().status == "backing off"  # returns at once, WinCC not asked
        assert plant.opened == opened
        clock.now = health.backoff_until
    assert delays == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert codec.read_health(redis_client, "plant-a").failures == 5

    plant.error = None
    changes()
    outcome = poller.poll()
    assert outcome.status == "ok" and outcome.health_changed
    health = codec.read_health(redis_client, "plant-a")
    assert (health.failures, health.last_error, health.backoff_until) == (0, "", None)
    assert health.is_current(clock.now)
    assert changes()[-1]["health"] is True


def test_every_attempt_is_counted_backing_off_and_busy_are_not(redis_client, plant, clock):
    poller = make_poller(redis_client, plant, clock)
    poller.poll()
    clock.advance(1)
    plant.error = TimeoutError("timed out after 2.0 s")
    poller.poll()
    assert poller.poll().status == "backing off"
    redis_client.set(store.site_lock("plant-a"), "someone else", ex=10)
    assert poller.poll().status == "busy"
    counts = codec.decode_poll_counts(redis_client.hgetall(store.site_polls("plant-a")))
    assert (counts.polls, counts.failures) == (2, 1)
    assert counts.buckets[-1] == (float("inf"), 2)
    assert 0 < counts.seconds < 5


def test_malformed_answer_is_an_error_and_the_poller_survives(redis_client, plant, clock):
    poller = make_poller(redis_client, plant, clock)
    plant.error = KeyError("variableName")
    outcome = poller.poll()
    assert outcome.error == "unexpected error (KeyError): 'variableName'"
    clock.advance(5)
    plant.error = None
    assert poller.poll().status == "ok"


def test_overrun_reads_as_a_time_limit(redis_client, plant, clock):
    class Overrun(Exception):
        pass

    poller = make_poller(redis_client, plant, clock, overrun=(Overrun,))
    plant.error = Overrun()
    assert poller.poll().error == "the poll did not finish within its time limit of 5 s"


def test_a_held_lock_means_busy(redis_client, plant, clock):
    redis_client.set(store.site_lock("plant-a"), "someone else", ex=10)
    assert make_poller(redis_client, plant, clock).poll().status == "busy"
    assert plant.opened == 0
    assert redis_client.get(store.site_lock("plant-a")) == "someone else"


def test_time_limits_are_ordered():
    site = site_config()
    limits = TimeLimits.for_sites([site])
    assert site.timeout < limits.soft < limits.hard < limits.lock_ttl


def alarm(state, instance=1, **fields):
    return Alarm("plant-a", "Tank_Level_HH", instance, state, priority=12, alarm_class="Alarm",
                 event_text="Tank level very high", **fields)


def test_alarm_list_and_journal_follow_wincc(redis_client, plant, clock, changes):
    poller = make_poller(redis_client, plant, clock)
    raised = clock.now - timedelta(seconds=0.5)
    plant.alarms = [alarm(AlarmState.UNACKNOWLEDGED, raise_time=raised)]
    poller.poll()
    assert list(codec.read_alarms(redis_client, "plant-a")) == ["Tank_Level_HH|1"]
    assert changes()[-1]["alarms"] is True

    clock.advance(1)
    acked = clock.now - timedelta(seconds=0.2)
    plant.alarms = [alarm(AlarmState.ACKNOWLEDGED, raise_time=raised, ack_time=acked,
                          acknowledged_by="op1")]
    poller.poll()
    clock.advance(1)
    plant.alarms = []
    poller.poll()
    assert codec.read_alarms(redis_client, "plant-a") == {}
    entries = journal(redis_client)
    assert [e["transition"] for e in entries] == ["raised", "acknowledged", "returned"]
    assert entries[1]["acknowledged_by"] == "op1"
    assert entries[1]["at"] == acked.isoformat().replace("+00:00", "Z")
    assert entries[0]["priority"] == "12" and entries[0]["alarm_class"] == "Alarm"
    assert len({e["key"] for e in entries}) == 3
    assert codec.read_health(redis_client, "plant-a").alarm_count == 0


def test_restart_starts_from_redis_without_duplicates(redis_client, plant, clock, changes):
    plant.alarms = [alarm(AlarmState.UNACKNOWLEDGED, raise_time=clock.now)]
    make_poller(redis_client, plant, clock).poll()
    changes()
    clock.advance(1)
    restarted = make_poller(redis_client, plant, clock)
    outcome = restarted.poll()
    assert (outcome.changed_tags, outcome.alarms_changed, outcome.journal_events) == ((), False, 0)
    assert changes() == []
    assert len(journal(redis_client)) == 1


def test_a_poll_by_another_process_is_noticed(redis_client, plant, clock):
    """Worker A's memory says 2, B wrote 3, the plant is back at 2: Redis must say 2."""
    first, second = make_poller(redis_client, plant, clock), make_poller(redis_client, plant, clock)
    plant.values["Tank_Level"] = 2.0
    first.poll()
    plant.values["Tank_Level"] = 3.0
    second.poll()
    plant.values["Tank_Level"] = 2.0
    assert first.poll().changed_tags == ("Tank_Level",)
    assert codec.read_values(redis_client, "plant-a")["Tank_Level"].tag.value == 2.0


def test_a_site_without_alarm_list_polls_tags_only(redis_client, plant, clock, changes):
    plant.alarm_list = False
    plant.values["Tank_Level"] = 7.5
    poller = make_poller(redis_client, plant, clock)
    assert poller.poll().status == "ok"
    clock.advance(1)
    assert poller.poll().status == "ok"
    assert codec.read_values(redis_client, "plant-a")["Tank_Level"].tag.value == 7.5
    assert codec.read_alarms(redis_client, "plant-a") == {}
    health = codec.read_health(redis_client, "plant-a")
    assert health.is_current(clock.now) and not health.has_alarm_list
    assert (health.alarm_list, health.alarm_list_checked) == (
        "missing", clock.now - timedelta(seconds=1))
    # Asked once: the answer is remembered in the health, not asked again every poll.
    assert plant.alarm_requests == 1
    assert changes()[0]["alarms"] is True


def test_a_missing_alarm_list_is_asked_for_again_later(redis_client, plant, clock, changes):
    plant.alarm_list = False
    poller = make_poller(redis_client, plant, clock, alarm_reprobe=600)
    poller.poll()
    clock.advance(599)
    poller.poll()
    assert plant.alarm_requests == 1
    changes()
    # The server was upgraded: the next question after the pause finds the list.
    plant.alarm_list = True
    plant.alarms = [alarm(AlarmState.UNACKNOWLEDGED, raise_time=clock.now)]
    clock.advance(2)
    outcome = poller.poll()
    assert plant.alarm_requests == 2
    assert outcome.alarms_changed and outcome.health_changed
    health = codec.read_health(redis_client, "plant-a")
    assert (health.alarm_list, health.alarm_count) == ("offered", 1)
    assert list(codec.read_alarms(redis_client, "plant-a")) == ["Tank_Level_HH|1"]


def test_a_failed_poll_keeps_what_was_learnt_about_the_alarm_list(redis_client, plant, clock):
    plant.alarm_list = False
    poller = make_poller(redis_client, plant, clock)
    poller.poll()
    checked = clock.now
    clock.advance(1)
    plant.error = TimeoutError("timed out after 2.0 s waiting for https://wincc.invalid")
    poller.poll()
    health = codec.read_health(redis_client, "plant-a")
    assert (health.reason, health.alarm_list, health.alarm_list_checked) == (
        "WinCC not answering", "missing", checked)
    plant.error = None
    clock.advance(30)
    poller.poll()
    assert plant.alarm_requests == 1  # a new connection is no reason to ask again


def test_alarms_read_before_the_list_went_missing_are_removed(redis_client, plant, clock):
    plant.alarms = [alarm(AlarmState.UNACKNOWLEDGED, raise_time=clock.now)]
    poller = make_poller(redis_client, plant, clock)
    poller.poll()
    assert codec.read_alarms(redis_client, "plant-a")
    plant.alarm_list = False
    clock.advance(1)
    outcome = poller.poll()
    assert outcome.alarms_changed
    assert codec.read_alarms(redis_client, "plant-a") == {}
    # Nobody saw the alarm clear: the journal holds its raise only.
    assert [e["transition"] for e in journal(redis_client)] == ["raised"]
    assert codec.read_health(redis_client, "plant-a").alarm_list == "missing"


def test_alarms_false_in_the_configuration_never_asks(redis_client, plant, clock):
    plant.alarms = [alarm(AlarmState.UNACKNOWLEDGED, raise_time=clock.now)]
    poller = make_poller(redis_client, plant, clock, site_options={"alarms": False})
    poller.poll()
    clock.advance(1000)
    poller.poll()
    assert plant.alarm_requests == 0
    assert codec.read_alarms(redis_client, "plant-a") == {}
    health = codec.read_health(redis_client, "plant-a")
    assert (health.alarm_list, health.tag_count) == ("off", 2)


def test_unknown_site_is_a_clear_error(redis_client):
    pollers = Pollers([site_config()], redis_client)
    with pytest.raises(KeyError, match="'nowhere' is not in the configuration"):
        pollers.poll("nowhere")
