"""Trigger conditions, coalescing and templates (wincc_ingest.triggers): pure, no process."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from wincc_bridge.models import Quality, TagValue
from wincc_ingest import codec
from wincc_ingest.config import Limits
from wincc_ingest.journal import JournalEvent, Transition
from wincc_ingest.triggers import (
    SiteTriggers,
    TriggerState,
    build_triggers,
    render,
    unknown_placeholders,
)

SITE = "oven"
START = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
LIMITS = {(SITE, "Temp"): Limits(ll=150, l=165, h=195, hh=210)}
HOOK = [{"webhook": {"url": "http://127.0.0.1:9/hook"}}]


def engine(when: dict, *, min_interval: float = 0, trigger_id: str = "t") -> SiteTriggers:
    raw = [{"id": trigger_id, "when": when, "then": HOOK, "min_interval": min_interval}]
    return SiteTriggers(SITE, build_triggers(raw, LIMITS, None))


class Run:
    """Feeds polls to an engine as the poller does, a second apart by default."""

    def __init__(self, triggers: SiteTriggers) -> None:
        self.triggers = triggers
        self.now = START
        self.sent: list[dict] = []

    def poll(self, value=None, *, quality=Quality.GOOD, stamp: datetime | None = None,
             events=(), after: float = 1.0, tag: str = "Temp") -> list[dict]:
        self.now += timedelta(seconds=after)
        tags = [] if value is None and quality is Quality.GOOD else [
            TagValue(tag, value, quality, timestamp=stamp or self.now)]
        result = self.triggers.evaluate(tags, list(events), self.now)
        self.triggers.commit(result)
        fired = [firing.event for firing in result.firings]
        self.sent += fired
        return fired

    def events(self) -> list[str]:
        return [event["event"] for event in self.sent]


def test_above_fires_once_on_entering_and_rearms_only_below_the_hysteresis():
    run = Run(engine({"site": SITE, "tag": "Temp", "condition": "above", "value": 200,
                      "hysteresis": 5, "on_return": True}))
    assert run.poll(190) == []
    [event] = run.poll(201)
    assert (event["event"], event["value"], event["tag"], event["site"]) == (
        "entered", 201, "Temp", SITE)
    assert run.poll(203) == []  # still above: nothing new
    assert run.poll(197) == []  # below 200 but within the hysteresis: still "above"
    assert [e["event"] for e in run.poll(194)] == ["left"]
    assert [e["event"] for e in run.poll(201)] == ["entered"]


def test_a_limit_name_is_the_tags_own_limit_and_outside_uses_l_and_h():
    run = Run(engine({"site": SITE, "tag": "Temp", "condition": "above", "value": "hh"}))
    run.poll(200)
    run.poll(211)
    assert run.events() == ["entered"]
    outside = Run(engine({"site": SITE, "tag": "Temp", "condition": "outside_limits"}))
    for value in (180, 160, 180, 196):
        outside.poll(value)
    assert outside.events() == ["entered", "entered"]
    assert [e["value"] for e in outside.sent] == [160, 196]


def test_below_without_a_value_is_the_low_limit():
    run = Run(engine({"site": SITE, "tag": "Temp", "condition": "below"}))
    run.poll(170)
    run.poll(164)
    assert run.events() == ["entered"]


def test_a_bad_value_neither_enters_nor_leaves_a_limit():
    run = Run(engine({"site": SITE, "tag": "Temp", "condition": "above", "value": 200,
                      "on_return": True}))
    run.poll(201)
    run.poll(None, quality=Quality.BAD)
    run.poll("n/a")
    run.poll(202)
    assert run.events() == ["entered"]


def test_change_fires_beyond_the_deadband_against_the_last_value_sent():
    run = Run(engine({"site": SITE, "tag": "Temp", "condition": "change", "deadband": 1.0}))
    run.poll(100)  # first sight: the reference, not a change
    run.poll(100.6)
    run.poll(100.9)  # 0.9 from 100: still inside
    run.poll(101.2)
    run.poll(101.9)  # 0.7 from 101.2
    assert [e["value"] for e in run.sent] == [101.2]


def test_equals_and_quality_not_good_and_stale():
    equals = Run(engine({"site": SITE, "tag": "Temp", "condition": "equals", "value": 1}))
    for value in (0, 1, 1, True, 0, 1):
        equals.poll(value)
    assert equals.events() == ["entered", "entered"]

    quality = Run(engine({"site": SITE, "tag": "Temp", "condition": "quality_not_good"}))
    quality.poll(1)
    quality.poll(1, quality=Quality.UNCERTAIN)
    quality.poll(None, quality=Quality.BAD)
    assert [e["quality"] for e in quality.sent] == ["uncertain"]

    stale = Run(engine({"site": SITE, "tag": "Temp", "condition": "stale", "seconds": 30}))
    frozen = START
    stale.poll(5, stamp=frozen, after=10)
    stale.poll(5, stamp=frozen, after=10)
    assert stale.sent == []
    stale.poll(5, stamp=frozen, after=15)  # 35 s old
    assert stale.events() == ["entered"]
    assert stale.sent[0]["timestamp"] == "2026-11-26T10:00:00Z"


def test_alarm_events_filtered_by_event_site_priority_class_and_name():
    triggers = engine({"alarm": ["raised"], "sites": [SITE], "priority": {"min": 5},
                       "classes": ["Alarm"], "name": "Oven_*"})
    run = Run(triggers)

    def event(name="Oven_Door", transition=Transition.RAISED, priority=7, cls="Alarm", site=SITE):
        return JournalEvent(site, name, 3, transition, START, "unacknowledged", priority, cls,
                            "Door open", "", "Oven", "")

    run.poll(events=[event(), event(name="Tank_Low"), event(priority=2),
                     event(cls="Warning"), event(transition=Transition.ACKNOWLEDGED),
                     event(site="other")])
    [sent] = run.sent
    assert sent["alarm"] == {
        "name": "Oven_Door", "instance_id": 3, "transition": "raised",
        "state": "unacknowledged", "priority": 7, "class": "Alarm", "text": "Door open",
        "info": "", "area": "Oven", "acknowledged_by": None,
    }
    assert (sent["event"], sent["tag"], sent["value"]) == ("raised", None, None)


def test_a_chattering_tag_sends_the_latest_state_at_most_once_per_interval_and_the_last():
    run = Run(engine({"site": SITE, "tag": "Temp", "condition": "above", "value": 200,
                      "on_return": True}, min_interval=10))
    sent_at = []
    for second in range(25):  # flips every second for 25 s, then stays above
        fired = run.poll(205 if second % 2 == 0 else 190)
        sent_at += [run.now] * len(fired)
    for _ in range(15):
        run.poll(205)
    # Never two within 10 s ...
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent_at)]
    assert all(gap >= 10 for gap in gaps), gaps
    # ... and the last thing sent is the state the tag stayed in.
    assert run.sent[-1]["event"] == "entered"
    assert run.sent[-1]["value"] == 205
    assert len(run.sent) <= 5
    assert sum(event["coalesced"] for event in run.sent) == 25


def test_alarm_coalescing_is_per_alarm_so_different_alarms_are_not_folded():
    run = Run(engine({"alarm": ["raised"]}, min_interval=60))

    def raised(name, instance):
        return JournalEvent(SITE, name, instance, Transition.RAISED, START, "unacknowledged")

    run.poll(events=[raised("A", 1), raised("B", 1)])
    run.poll(events=[raised("A", 2)])
    assert [e["alarm"]["name"] for e in run.sent] == ["A", "B"]
    run.poll(after=61)
    assert [(e["alarm"]["name"], e["alarm"]["instance_id"]) for e in run.sent][-1] == ("A", 2)
    # With nothing waiting and the interval over, an alarm's slot is not kept.
    run.poll(after=61)
    assert run.triggers.states == {}


def test_state_survives_a_restart_through_the_codec():
    first = Run(engine({"site": SITE, "tag": "Temp", "condition": "above", "value": 200},
                       min_interval=10))
    first.poll(205)
    first.poll(190)
    first.poll(206)  # within the interval: waits
    stored = {slot: codec.encode_trigger_state(state)
              for slot, state in first.triggers.states.items()}

    second = Run(engine({"site": SITE, "tag": "Temp", "condition": "above", "value": 200},
                        min_interval=10))
    second.now = first.now
    second.triggers.states = {slot: codec.decode_trigger_state(raw)
                              for slot, raw in stored.items()}
    second.poll(206, after=9)
    assert [e["value"] for e in second.sent] == [206]  # the waiting one, not a new "entered"


def test_stored_state_that_is_unreadable_is_named():
    with pytest.raises(codec.StoredDataError, match="trigger state"):
        codec.decode_trigger_state("[1]")
    assert codec.decode_trigger_state(codec.encode_trigger_state(TriggerState())) == \
        TriggerState()


def test_event_ids_are_stable_for_the_same_event_and_differ_otherwise():
    def first_event(value, stamp):
        run = Run(engine({"site": SITE, "tag": "Temp", "condition": "above", "value": 200}))
        return run.poll(value, stamp=stamp)[0]["event_id"]

    assert first_event(205, START) == first_event(206, START)
    assert first_event(205, START) != first_event(205, START + timedelta(seconds=1))


def test_templates_keep_json_types_and_never_paste_values_into_json_text():
    event = {"site": "oven", "value": 'x", "admin": true, "y": "', "quality": "good",
             "alarm": {"priority": 7, "name": "Door"}, "tag": None}
    body = render({"v": "{value}", "text": "at {site}: {alarm.name}", "p": "{alarm.priority}",
                   "missing": "{tag}", "list": ["{quality}", 3], "fixed": True}, event)
    assert body == {"v": event["value"], "text": "at oven: Door", "p": 7, "missing": None,
                    "list": ["good", 3], "fixed": True}
    assert set(json.loads(json.dumps(body))) == {"v", "text", "p", "missing", "list", "fixed"}
    assert unknown_placeholders({"a": ["{nope} {site}"], "b": "{alarm.bogus}"}) == [
        "nope", "alarm.bogus"]
