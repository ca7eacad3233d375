"""Alarm transitions between two polls (wincc_ingest.journal), no Redis needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wincc_bridge.models import Alarm, AlarmState
from wincc_ingest import codec
from wincc_ingest.journal import Transition, diff_alarms, transitions_between

S = AlarmState
NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("old", "new", "expected"), [
    (None, S.UNACKNOWLEDGED, ["raised"]),
    (S.UNACKNOWLEDGED, S.ACKNOWLEDGED, ["acknowledged"]),
    (S.UNACKNOWLEDGED, S.RETURNED_UNACKNOWLEDGED, ["returned"]),
    (S.RETURNED_UNACKNOWLEDGED, S.UNACKNOWLEDGED, ["raised"]),
    (S.ACKNOWLEDGED, None, ["returned"]),
    (S.RETURNED_UNACKNOWLEDGED, None, ["acknowledged"]),
    (S.UNACKNOWLEDGED, None, ["acknowledged", "returned"]),
    (S.LATCHED_ACKNOWLEDGED, None, ["cleared"]),
    (S.ACKNOWLEDGED, S.NORMAL, ["returned"]),
    (None, S.ACKNOWLEDGED, ["raised", "acknowledged"]),
    (S.UNACKNOWLEDGED, S.SHELVED, ["shelved"]),
    (S.SHELVED, S.UNACKNOWLEDGED, ["unshelved"]),
    (S.ACKNOWLEDGED, S.SUPPRESSED, ["suppressed"]),
    (S.SUPPRESSED, S.ACKNOWLEDGED, ["changed"]),
    (S.ACKNOWLEDGED, S.ACKNOWLEDGED, []),
    (None, None, []),
])
def test_transition_table(old, new, expected):
    assert [t.value for t in transitions_between(old, new)] == expected


def alarm(state, instance=1, **fields):
    return Alarm("oven", "Oven_Zone1_Temp_HH", instance, state, priority=12,
                 alarm_class="Alarm", event_text="Zone 1 too hot", info_text="Open the vent",
                 area="Oven", **fields)


def test_steps_missed_between_polls_come_in_winccs_order():
    raised, cleared = NOW - timedelta(seconds=0.8), NOW - timedelta(seconds=0.3)
    new = alarm(S.RETURNED_UNACKNOWLEDGED, raise_time=raised, clear_time=cleared)
    events = diff_alarms("oven", {}, {new.key: new}, NOW)
    assert [(e.transition, e.at) for e in events] == [
        (Transition.RAISED, raised), (Transition.RETURNED, cleared)]
    assert all(e.state == "returned_unacknowledged" for e in events)


def test_leaving_uses_the_last_known_alarm_and_the_poll_time():
    old = alarm(S.ACKNOWLEDGED, acknowledged_by="op1", ack_time=NOW - timedelta(seconds=5))
    (event,) = diff_alarms("oven", {old.key: old}, {}, NOW)
    assert (event.transition, event.at, event.state) == (Transition.RETURNED, NOW, "normal")
    assert (event.priority, event.alarm_class, event.event_text, event.info_text, event.area,
            event.acknowledged_by) == (12, "Alarm", "Zone 1 too hot", "Open the vent", "Oven",
                                       "op1")


def test_a_notification_that_leaves_just_returned():
    old = alarm(S.UNACKNOWLEDGED, can_acknowledge=False)
    assert [e.transition for e in diff_alarms("oven", {old.key: old}, {}, NOW)] == ["returned"]


def test_an_instance_replaced_by_a_newer_one_was_removed():
    old, new = alarm(S.RETURNED_UNACKNOWLEDGED, 1), alarm(S.UNACKNOWLEDGED, 2, raise_time=NOW)
    events = diff_alarms("oven", {old.key: old}, {new.key: new}, NOW)
    assert sorted((e.instance_id, e.transition.value) for e in events) == [
        (1, "cleared"), (2, "raised")]


def test_instances_are_separate_alarms():
    first, second = alarm(S.UNACKNOWLEDGED, 1), alarm(S.UNACKNOWLEDGED, 2)
    events = diff_alarms("oven", {first.key: first}, {first.key: first, second.key: second}, NOW)
    assert [(e.instance_id, e.transition) for e in events] == [(2, Transition.RAISED)]


def test_key_names_site_alarm_instance_transition_and_time():
    (event,) = diff_alarms("oven", {}, {"k": alarm(S.UNACKNOWLEDGED, 3, raise_time=NOW)}, NOW)
    assert event.key == "oven|Oven_Zone1_Temp_HH|3|raised|2026-11-26T10:00:00Z"


def test_stream_fields_round_trip():
    (event,) = diff_alarms("oven", {}, {"k": alarm(S.UNACKNOWLEDGED, raise_time=NOW)}, NOW)
    fields = codec.encode_journal_event(event)
    assert all(isinstance(v, str) for v in fields.values())
    assert codec.decode_journal_event(fields) == event


@pytest.mark.parametrize(("change", "message"), [
    ({"at": ""}, "'at' is empty"),
    ({"transition": "exploded"}, "malformed"),
    ({"instance_id": "one"}, "malformed"),
])
def test_malformed_stream_entries_are_clear_errors(change, message):
    (event,) = diff_alarms("oven", {}, {"k": alarm(S.UNACKNOWLEDGED, raise_time=NOW)}, NOW)
    with pytest.raises(ValueError, match=message):
        codec.decode_journal_event({**codec.encode_journal_event(event), **change})
    fields = codec.encode_journal_event(event)
    del fields["site"]
    with pytest.raises(ValueError, match="lacks the field 'site'"):
        codec.decode_journal_event(fields)
