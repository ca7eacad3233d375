"""The journal consumer: stream -> JournalEntry rows, at least once, never twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard.journal import ensure_group, persist_journal
from dashboard.models import JournalEntry
from tests.poller.stub import Clock, StubPlant, site_config
from wincc_bridge.models import Alarm, AlarmState
from wincc_ingest import codec, store
from wincc_ingest.poller import SitePoller, TimeLimits

pytestmark = pytest.mark.django_db


def alarm(state, instance=1, **fields):
    return Alarm("plant-a", "Pump_Fault", instance, state, priority=8, alarm_class="Warning",
                 event_text="Pump tripped", info_text="Check the motor breaker", area="Tank",
                 **fields)


def run_plant(redis_client, states):
    """Poll a stub plant through `states` of one alarm; return the journal events' keys."""
    plant, clock = StubPlant(["Tank_Level"]), Clock()
    site = site_config(names=["Tank_Level"])
    poller = SitePoller(site, redis_client, TimeLimits.for_sites([site]), connect=plant.connect,
                        clock=clock)
    raised = clock.now
    for state in states:
        clock.advance(1)
        acked = state is AlarmState.ACKNOWLEDGED
        plant.alarms = [] if state is None else [alarm(
            state, raise_time=raised, ack_time=clock.now if acked else None,
            acknowledged_by="op1" if acked else None, can_acknowledge=not acked)]
        poller.poll()
    return [fields["key"] for _, fields in redis_client.xrange(store.JOURNAL_STREAM)]


def pending(redis_client):
    return redis_client.xpending(store.JOURNAL_STREAM, store.JOURNAL_GROUP)["pending"]


def test_rows_keep_what_wincc_said(redis_client):
    keys = run_plant(redis_client, [AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED, None])
    assert persist_journal(redis_client) == 3
    rows = list(JournalEntry.objects.order_by("at", "id"))
    assert [row.key for row in rows] == keys
    assert [row.transition for row in rows] == ["raised", "acknowledged", "returned"]
    acked = rows[1]
    assert (acked.site_id, acked.alarm_name, acked.instance_id, acked.priority,
            acked.alarm_class, acked.event_text, acked.info_text, acked.area,
            acked.acknowledged_by, acked.state) == (
        "plant-a", "Pump_Fault", 1, 8, "Warning", "Pump tripped", "Check the motor breaker",
        "Tank", "op1", "acknowledged")
    assert rows[0].at + timedelta(seconds=2) == acked.at
    assert pending(redis_client) == 0
    assert persist_journal(redis_client) == 0


def test_entries_of_a_killed_consumer_are_replayed_without_duplicates(redis_client):
    keys = run_plant(redis_client, [AlarmState.UNACKNOWLEDGED, AlarmState.ACKNOWLEDGED, None])
    ensure_group(redis_client)
    # A consumer read all three, committed the first row, and died before XACK.
    entries = redis_client.xreadgroup(store.JOURNAL_GROUP, "dead-worker",
                                      {store.JOURNAL_STREAM: ">"})[0][1]
    assert len(entries) == 3
    persist_journal(redis_client, consumer="other", claim_idle_ms=60_000)
    assert JournalEntry.objects.count() == 0  # not claimed while it may still be working
    first = codec.decode_journal_event(entries[0][1])
    JournalEntry.objects.create(key=first.key, site_id=first.site, alarm_name=first.alarm,
                                transition=first.transition, at=first.at, state=first.state)

    assert persist_journal(redis_client, consumer="other", claim_idle_ms=0) == 2
    assert sorted(JournalEntry.objects.values_list("key", flat=True)) == sorted(keys)
    assert pending(redis_client) == 0


def test_a_malformed_entry_is_kept_aside_and_does_not_block(redis_client):
    run_plant(redis_client, [AlarmState.UNACKNOWLEDGED])
    redis_client.xadd(store.JOURNAL_STREAM, {"key": "x", "site": "plant-a", "alarm": "A",
                                             "transition": "exploded"})
    run_plant(redis_client, [AlarmState.UNACKNOWLEDGED, None])
    assert persist_journal(redis_client) == 3
    ((_, rejected),) = redis_client.xrange(store.JOURNAL_REJECTED_STREAM)
    assert rejected["key"] == "x"
    assert rejected["error"] == "journal entry lacks the field 'at'"
    assert pending(redis_client) == 0


def test_a_value_too_long_for_its_column_is_kept_aside(redis_client):
    run_plant(redis_client, [AlarmState.UNACKNOWLEDGED])
    ((_, fields),) = redis_client.xrange(store.JOURNAL_STREAM)
    redis_client.delete(store.JOURNAL_STREAM)
    redis_client.xadd(store.JOURNAL_STREAM, {**fields, "alarm": "A" * 300,
                                             "key": fields["key"] + "-long"})
    assert persist_journal(redis_client) == 0
    ((_, rejected),) = redis_client.xrange(store.JOURNAL_REJECTED_STREAM)
    assert rejected["error"] == "alarm_name is 300 characters, longer than 256"
