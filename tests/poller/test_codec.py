"""Every Redis message: a round trip each, bad entries, freshness (wincc_ingest.codec)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from wincc_bridge.models import Alarm, AlarmState, Quality, TagValue
from wincc_ingest import codec, store
from wincc_ingest.journal import JournalEvent, Transition

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


def test_value_round_trip_keeps_quality_and_times():
    tag = TagValue("Tank_Level", 42.5, Quality.UNCERTAIN, 0x44, NOW - timedelta(seconds=1))
    stored = codec.decode_value(codec.encode_value(tag, NOW))
    assert stored.tag == tag
    assert stored.read_at == NOW


def test_value_json_has_the_agreed_fields():
    data = json.loads(codec.encode_value(TagValue("X", True, Quality.GOOD), NOW))
    assert {"value", "quality", "quality_code", "timestamp", "read_at", "error"} <= set(data)
    assert data["read_at"] == "2026-11-26T10:00:00Z"
    assert data["timestamp"] is None


@pytest.mark.parametrize("value", [
    42.5, -0.0, 1e16, 1.5e-7, 7, -(2**63), 2**64 - 1, True, None, "Batch 17 / größe \u2028 \"q\"",
    # not written by orjson: a number beyond 64 bits, NaN and infinities, a structure, text
    # that is not UTF-8
    2**64, 10**30, float("nan"), float("-inf"), [1, {"a": float("nan")}], "\ud800",
])
def test_every_kind_of_value_reads_back_as_it_was_read(value):
    tag = TagValue("Tank \"Level\" ä", value, Quality.GOOD, 192, NOW, error=None)
    stored = codec.decode_value(codec.encode_value(tag, NOW)).tag
    assert json.dumps(stored.value) == json.dumps(value)  # NaN too; -0.0 keeps its sign
    assert type(stored.value) is type(value)
    assert (stored.name, stored.quality, stored.quality_code, stored.timestamp) == (
        tag.name, tag.quality, tag.quality_code, tag.timestamp)


def test_hash_field_names_the_value():
    raw = json.dumps({"value": 1, "quality": "good", "read_at": "2026-11-26T10:00:00Z"})
    assert codec.decode_value(raw, "Motor1_Current").tag.name == "Motor1_Current"


@pytest.mark.parametrize("raw", ["not json", "[1]", '{"value": 1, "quality": "odd"}', "{}"])
def test_unreadable_value_is_a_clear_error(raw):
    with pytest.raises(codec.StoredDataError, match="Tag_A is unreadable"):
        codec.decode_value(raw, "Tag_A")


def test_alarm_round_trip():
    alarm = Alarm("oven", "Oven_Zone1_Temp_HH", 3, AlarmState.ACKNOWLEDGED, priority=12,
                  raise_time=NOW, ack_time=NOW, acknowledged_by="op1", extra={"path": "a::b"})
    assert codec.decode_alarm(codec.encode_alarm(alarm)) == alarm


def test_health_round_trip_and_freshness():
    health = codec.SiteHealth(
        site="oven", interval=1.0, last_attempt=NOW, last_success=NOW, duration_ms=12.3,
        latency_ms=10.0, failures=0, last_error="", backoff_until=None, tag_count=5,
        alarm_count=1, tags_uncertain=1, tags_bad=2, last_push=NOW, push_source="subscription")
    encoded = codec.encode_health(health)
    assert all(isinstance(v, str) for v in encoded.values())
    decoded = codec.decode_health(encoded)
    assert decoded == health
    assert decoded.is_current(NOW + timedelta(seconds=3))
    assert not decoded.is_current(NOW + timedelta(seconds=3.1))
    assert not decoded.is_failing


def test_failing_site_is_never_current():
    health = codec.decode_health({"site": "oven", "interval": "1.0", "last_success":
                                  NOW.isoformat(), "failures": "1",
                                  "last_error": "timed out after 2.0 s"})
    assert health.is_failing
    assert not health.is_current(NOW)
    assert health.last_error == "timed out after 2.0 s"


def test_an_unreadable_alarm_under_a_key_with_a_non_ascii_digit_stays_visible():
    alarm = codec.unreadable_alarm("s1", "Pump_Fault|²", codec.StoredDataError("broken"))
    assert (alarm.name, alarm.instance_id) == ("Pump_Fault", 0)


def test_readers_show_bad_entries_instead_of_failing(redis_client):
    good = TagValue("A", 1.0, Quality.GOOD)
    redis_client.hset(store.site_values("s1"), mapping={
        "A": codec.encode_value(good, NOW), "B": "{broken"})
    redis_client.hset(store.site_alarms("s1"), "Pump_Fault|7", "{broken")
    values = codec.read_values(redis_client, "s1")
    assert values["A"].tag == good
    assert values["B"].tag.quality is Quality.BAD
    assert "B is unreadable" in values["B"].tag.error
    alarm = codec.read_alarms(redis_client, "s1")["Pump_Fault|7"]
    assert (alarm.name, alarm.instance_id) == ("Pump_Fault", 7)
    assert "unreadable" in alarm.event_text
    assert codec.read_health(redis_client, "s1") is None


def test_trends_are_newest_first_and_capped(redis_client):
    key = store.site_trend("s1", "Tank_Level")
    redis_client.rpush(key, *(f"{1000 - i} {i}" for i in range(store.TREND_LENGTH)))
    pipe = redis_client.pipeline()
    store.push_trends(pipe, "s1", {"Tank_Level": "2000.000 42.5", "Motor1_Current": "2000.000 3"})
    pipe.execute()
    trend = redis_client.lrange(key, 0, store.TREND_LENGTH - 1)  # what readers read
    assert len(trend) == store.TREND_LENGTH
    assert trend[:2] == ["2000.000 42.5", "1000 0"]
    assert redis_client.lrange(store.site_trend("s1", "Motor1_Current"), 0, -1) == [
        "2000.000 3"]
    # The list may grow by TREND_SLACK; past that it is cut back to the newest TREND_LENGTH.
    for i in range(store.TREND_SLACK):
        pipe = redis_client.pipeline()
        store.push_trends(pipe, "s1", {"Tank_Level": f"{3000 + i}.000 {i}"})
        pipe.execute()
        assert redis_client.llen(key) == (store.TREND_LENGTH + 2 + i
                                          if i < store.TREND_SLACK - 1 else store.TREND_LENGTH)
    trend = redis_client.lrange(key, 0, -1)
    oldest_kept = store.TREND_LENGTH - store.TREND_SLACK - 2  # of the 600 first
    assert trend[0] == f"{3000 + store.TREND_SLACK - 1}.000 {store.TREND_SLACK - 1}"
    assert trend[-1] == f"{1000 - oldest_kept} {oldest_kept}"


def test_poll_counters_add_up_into_cumulative_buckets(redis_client):
    pipe = redis_client.pipeline()
    for seconds, failed in [(0.01, False), (0.3, False), (0.3, True), (99.0, True)]:
        codec.count_poll(pipe, "s1", failed=failed, seconds=seconds)
    pipe.execute()
    counts = codec.decode_poll_counts(redis_client.hgetall(store.site_polls("s1")))
    assert (counts.polls, counts.failures) == (4, 2)
    assert counts.seconds == pytest.approx(99.61)
    buckets = dict(counts.buckets)
    assert list(buckets) == [*store.POLL_SECONDS_BUCKETS, float("inf")]
    assert (buckets[0.025], buckets[0.25], buckets[0.5], buckets[10.0]) == (1, 1, 3, 3)
    assert buckets[float("inf")] == 4


def test_no_poll_counters_read_as_zero_and_unreadable_ones_say_so():
    assert codec.decode_poll_counts({}).polls == 0
    with pytest.raises(codec.StoredDataError, match="poll counters"):
        codec.decode_poll_counts({"polls": "many"})


def test_change_message_round_trip():
    change = codec.Change("oven", ("Oven_Zone1_Temp", "Oven_Zone2_Temp"), alarms=True)
    assert codec.decode_change(codec.encode_change(change)) == change
    assert codec.decode_change(codec.encode_change(codec.Change("s", health=True))) == (
        codec.Change("s", (), alarms=False, health=True))


@pytest.mark.parametrize(
    "raw", ["not json", "[]", '{"tags": []}', '{"site": 3}', '{"site": "s", "tags": "T"}'])
def test_unreadable_change_message_is_a_clear_error(raw):
    with pytest.raises(codec.StoredDataError, match="change message is unreadable"):
        codec.decode_change(raw)


def test_trend_samples_round_trip_oldest_first():
    tags = [TagValue("T", 3.5, Quality.GOOD), TagValue("T", True, Quality.UNCERTAIN),
            TagValue("T", 7, Quality.GOOD)]
    stored = [codec.encode_trend_sample(tag, 100.0 + i) for i, tag in enumerate(tags)]
    # stored newest first, as LPUSH leaves them
    assert codec.decode_trend(reversed(stored)) == [(100.0, 3.5), (101.0, 1.0), (102.0, 7.0)]
    # A poll formats its time once for every sample: the same text.
    assert [codec.encode_trend_sample(tag, codec.trend_time(100.0 + i))
            for i, tag in enumerate(tags)] == stored


def test_trend_keeps_only_what_it_can_draw():
    assert codec.encode_trend_sample(TagValue("T", 1.0, Quality.BAD), 1.0) is None
    assert codec.encode_trend_sample(TagValue("T", "text", Quality.GOOD), 1.0) is None
    assert codec.encode_trend_sample(TagValue("T", 1.0, Quality.GOOD, error="x"), 1.0) is None
    entries = ["30.0 3.5", "20.0 true", "10.0 n/a", "5.0 1"]  # newest first, as stored
    assert codec.decode_trend(entries) == [(5.0, 1.0), (20.0, 1.0), (30.0, 3.5)]


def test_journal_event_round_trip():
    event = JournalEvent("oven", "Oven_Zone1_Temp_HH", 4, Transition.ACKNOWLEDGED, NOW,
                         "acknowledged", priority=12, alarm_class="Alarm", event_text="Hot",
                         info_text="Open the door", area="Oven", acknowledged_by="op1")
    fields = codec.encode_journal_event(event)
    assert all(isinstance(v, str) for v in fields.values())
    assert fields["key"] == event.key
    assert codec.decode_journal_event(fields) == event


def test_ack_holder_round_trip_and_an_unreadable_one():
    holder = codec.AckHolder("op1", "done")
    assert codec.decode_ack_holder(codec.encode_ack_holder(holder)) == holder
    assert codec.decode_ack_holder("{broken") == codec.AckHolder("someone else", "sending")
    assert codec.decode_ack_holder(None) == codec.AckHolder("someone else", "sending")


def test_heartbeat_round_trip():
    assert codec.decode_heartbeat(codec.encode_heartbeat(NOW)) == NOW
    assert codec.decode_heartbeat("yesterday") is None
    assert codec.decode_heartbeat(None) is None


def test_health_keeps_the_writer_stamp():
    health = codec.SiteHealth("s", 2.0, NOW, NOW, None, None, 0, "", None, 1, 0, writer="w:1")
    assert codec.decode_health(codec.encode_health(health)).writer == "w:1"


def test_health_keeps_the_short_reason_and_what_is_known_of_the_alarm_list():
    health = codec.SiteHealth("s", 2.0, NOW, None, None, None, 3, "login refused for the token",
                              None, 1, 0, reason="login refused", alarm_list="missing",
                              alarm_list_checked=NOW)
    decoded = codec.decode_health(codec.encode_health(health))
    assert decoded == health
    assert not decoded.has_alarm_list


def test_health_written_before_the_alarm_list_was_recorded_reads_as_offered():
    encoded = codec.encode_health(codec.SiteHealth("s", 1.0, NOW, NOW, None, None, 0, "", None,
                                                   1, 0))
    for key in ("reason", "alarm_list", "alarm_list_checked"):
        del encoded[key]
    decoded = codec.decode_health(encoded)
    assert (decoded.reason, decoded.alarm_list, decoded.has_alarm_list) == ("", "offered", True)


def test_an_unknown_alarm_list_state_is_unreadable_health():
    encoded = codec.encode_health(codec.SiteHealth("s", 1.0, NOW, NOW, None, None, 0, "", None,
                                                   1, 0, alarm_list="perhaps"))
    with pytest.raises(codec.StoredDataError, match="alarm_list 'perhaps'"):
        codec.decode_health(encoded)


def test_site_read_set_round_trip(redis_client):
    tag = TagValue("A", 1.5, Quality.GOOD)
    alarm = Alarm("s1", "Pump_Fault", 7, AlarmState.UNACKNOWLEDGED, priority=3)
    health = codec.SiteHealth("s1", 1.0, NOW, NOW, 1.0, 1.0, 0, "", None, 1, 1)
    redis_client.hset(store.site_values("s1"), "A", codec.encode_value(tag, NOW))
    redis_client.hset(store.site_alarms("s1"), alarm.key, codec.encode_alarm(alarm))
    redis_client.hset(store.site_health("s1"), mapping=codec.encode_health(health))
    store.push_trends(redis_client, "s1", {"A": codec.encode_trend_sample(tag, 10.0)})
    read = codec.SiteRead("s1", trends=("A",))
    data = codec.read_site(redis_client, read, NOW)
    assert data.values["A"].tag == tag
    assert data.alarms == {alarm.key: alarm}
    assert data.health == health
    assert data.trends == {"A": [(10.0, 1.5)]}
    # a read of named tags drops a tag that is gone, and leaves the rest as they are
    redis_client.hdel(store.site_values("s1"), "A")
    only = codec.SiteRead("s1", values=("A",), alarms=False, health=False)
    pipe = redis_client.pipeline()
    only.queue(pipe)
    only.apply(pipe.execute(), data, NOW)
    assert "A" not in data.values and data.alarms


def test_site_read_refuses_answers_of_another_read():
    read = codec.SiteRead("s1")
    with pytest.raises(ValueError, match="4 answers expected"):
        read.apply([{}], codec.SiteData(), NOW)


def test_unreadable_health_reads_as_a_failing_site():
    health = codec.decode_health_or_failing("s1", {"site": "s1", "failures": "many"})
    assert health.is_failing and "unreadable" in health.last_error
    assert codec.decode_health_or_failing("s1", {}) is None


def test_alarm_note_round_trip():
    shelf = codec.Shelf("operator", "sensor swap", NOW, NOW + timedelta(minutes=15), True)
    comments = (codec.NoteComment("anna", NOW, "checked"), codec.NoteComment("ben", NOW, "ok"))
    note = codec.AlarmNote(shelf, comments, comment_count=5, acknowledged_by="anna")
    assert codec.decode_note(codec.encode_note(note)) == note
    # A note written before it named who acknowledged: nobody here did.
    assert codec.decode_note('{"shelf": null, "comments": [], "comment_count": 1}') == (
        codec.AlarmNote(comment_count=1))
    assert codec.decode_note(codec.encode_note(codec.AlarmNote())) == codec.AlarmNote()


def test_unreadable_notes_are_left_out():
    good = codec.encode_note(codec.AlarmNote(comment_count=1))
    notes = codec.decode_notes({"A|1": good, "B|1": "{broken", "C|1": '{"shelf": {"by": "x"}}'})
    assert list(notes) == ["A|1"]
    with pytest.raises(codec.StoredDataError, match="alarm note is unreadable"):
        codec.decode_note('{"shelf": {"by": "x", "reason": "", "since": "no", "until": ""}}')


def test_site_read_brings_the_notes_with_the_alarms(redis_client):
    note = codec.AlarmNote(comment_count=2)
    redis_client.hset(store.site_notes("s1"), "Pump_Fault|7", codec.encode_note(note))
    data = codec.read_site(redis_client, codec.SiteRead("s1", values=False, health=False), NOW)
    assert data.notes == {"Pump_Fault|7": note}


def test_trigger_state_round_trip_and_an_unreadable_one():
    from wincc_ingest.triggers import TriggerState

    state = TriggerState(active=True, reference=41.5, seen=True, last_sent=1796120000.25,
                         pending={"event_id": "x", "value": 43.0}, pending_count=3)
    raw = codec.encode_trigger_state(state)
    assert codec.decode_trigger_state(raw) == state
    assert set(json.loads(raw)) == {"active", "reference", "seen", "last_sent", "pending",
                                    "pending_count"}
    with pytest.raises(codec.StoredDataError, match="trigger state is unreadable"):
        codec.decode_trigger_state('{"pending": 5}')
