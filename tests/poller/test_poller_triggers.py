"""Triggers inside the poller, against a real Redis with a stub WinCC client: evaluated on
the values the poll already has, state kept in Redis for the next process, and at least once
when queueing fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.poller.stub import Clock, StubPlant, site_config
from wincc_bridge.models import Alarm, AlarmState
from wincc_ingest import codec, store
from wincc_ingest.config import Limits
from wincc_ingest.poller import SitePoller, TimeLimits
from wincc_ingest.triggers import build_triggers

NAMES = ["Tank_Level", "Conveyor_Running"]
HOOK = [{"webhook": {"url": "http://127.0.0.1:9/hook"}}]
TRIGGERS = build_triggers(
    [
        {"id": "tank-high", "when": {"site": "plant-a", "tag": "Tank_Level",
                                     "condition": "above", "value": 90, "hysteresis": 2},
         "then": HOOK},
        {"id": "alarms", "when": {"alarm": ["raised", "acknowledged"]}, "then": HOOK},
        {"id": "elsewhere", "when": {"site": "plant-b", "tag": "Tank_Level",
                                     "condition": "above", "value": 1}, "then": HOOK},
    ],
    {("plant-a", "Tank_Level"): Limits()}, None,
)


class Queue:
    def __init__(self) -> None:
        self.events: list[dict] = []
        self.broken = False

    def __call__(self, firings) -> None:
        if self.broken:
            raise ConnectionError("broker away")
        self.events += [firing.event for firing in firings]


@pytest.fixture
def plant():
    return StubPlant(NAMES)


def make_poller(redis_client, plant, clock, queue):
    site = site_config(names=NAMES)
    return SitePoller(site, redis_client, TimeLimits.for_sites([site]), connect=plant.connect,
                      clock=clock, triggers=TRIGGERS, dispatch=queue)


def test_a_tag_condition_fires_once_and_its_state_is_in_redis(redis_client, plant):
    clock, queue = Clock(), Queue()
    poller = make_poller(redis_client, plant, clock, queue)
    plant.values["Tank_Level"] = 80.0
    poller.poll()
    clock.advance(1)
    plant.values["Tank_Level"] = 95.0
    poller.poll()
    clock.advance(1)
    plant.values["Tank_Level"] = 89.0  # within the hysteresis
    poller.poll()
    assert [(e["trigger"], e["event"], e["value"]) for e in queue.events] == [
        ("tank-high", "entered", 95.0)]
    stored = redis_client.hgetall(store.site_triggers("plant-a"))
    assert set(stored) == {"tank-high"}
    assert codec.decode_trigger_state(stored["tank-high"]).active is True


def test_another_process_continues_from_redis_without_firing_again(redis_client, plant):
    clock, first_queue, second_queue = Clock(), Queue(), Queue()
    plant.values["Tank_Level"] = 95.0
    make_poller(redis_client, plant, clock, first_queue).poll()
    clock.advance(1)
    make_poller(redis_client, plant, clock, second_queue).poll()  # e.g. another worker
    assert len(first_queue.events) == 1
    assert second_queue.events == []


def test_alarm_transitions_fire_from_the_polls_own_diff(redis_client, plant):
    clock, queue = Clock(), Queue()
    poller = make_poller(redis_client, plant, clock, queue)
    poller.poll()
    raised = datetime(2026, 11, 26, 10, 0, 1, tzinfo=UTC)
    plant.alarms = [Alarm("plant-a", "Tank_High", 1, AlarmState.UNACKNOWLEDGED, priority=9,
                          raise_time=raised)]
    clock.advance(1)
    poller.poll()
    [event] = queue.events
    assert (event["trigger"], event["event"], event["alarm"]["name"], event["timestamp"]) == (
        "alarms", "raised", "Tank_High", "2026-11-26T10:00:01Z")


def test_a_failed_queueing_fails_the_poll_and_the_next_poll_fires_the_same_event(
        redis_client, plant):
    clock, queue = Clock(), Queue()
    poller = make_poller(redis_client, plant, clock, queue)
    poller.poll()
    plant.values["Tank_Level"] = 95.0
    queue.broken = True
    clock.advance(1)
    with pytest.raises(ConnectionError):
        poller.poll()
    assert redis_client.hget(store.site_values("plant-a"), "Tank_Level") is not None
    assert codec.read_values(redis_client, "plant-a")["Tank_Level"].tag.value == 0.0
    queue.broken = False
    clock.advance(1)
    poller.poll()
    assert [e["value"] for e in queue.events] == [95.0]


def test_a_pushed_value_fires_as_a_polled_one_would(redis_client, plant):
    from wincc_bridge.models import Quality, TagValue

    clock, queue = Clock(), Queue()
    poller = make_poller(redis_client, plant, clock, queue)
    plant.values["Tank_Level"] = 80.0
    poller.poll()
    clock.advance(0.2)
    queue.broken = True
    high = [TagValue("Tank_Level", 95.0, Quality.GOOD)]
    with pytest.raises(ConnectionError):  # not recorded: the sender offers it again
        poller.record_push(high, source="subscription")
    assert codec.read_values(redis_client, "plant-a")["Tank_Level"].tag.value == 80.0
    queue.broken = False
    assert poller.record_push(high, source="subscription").changed_tags == ("Tank_Level",)
    assert [event["trigger"] for event in queue.events] == ["tank-high"]
