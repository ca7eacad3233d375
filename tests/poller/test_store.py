"""The stored forms the web reads: round trips, bad entries, freshness."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from wincc_bridge.models import Alarm, AlarmState, Quality, TagValue
from wincc_ingest import store

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


def test_value_round_trip_keeps_quality_and_times():
    tag = TagValue("Tank_Level", 42.5, Quality.UNCERTAIN, 0x44, NOW - timedelta(seconds=1))
    stored = store.decode_value(store.encode_value(tag, NOW))
    assert stored.tag == tag
    assert stored.read_at == NOW


def test_value_json_has_the_agreed_fields():
    data = json.loads(store.encode_value(TagValue("X", True, Quality.GOOD), NOW))
    assert {"value", "quality", "quality_code", "timestamp", "read_at", "error"} <= set(data)
    assert data["read_at"] == "2026-11-26T10:00:00Z"
    assert data["timestamp"] is None


def test_hash_field_names_the_value():
    raw = json.dumps({"value": 1, "quality": "good", "read_at": "2026-11-26T10:00:00Z"})
    assert store.decode_value(raw, "Motor1_Current").tag.name == "Motor1_Current"


@pytest.mark.parametrize("raw", ["not json", "[1]", '{"value": 1, "quality": "odd"}', "{}"])
def test_unreadable_value_is_a_clear_error(raw):
    with pytest.raises(store.StoredDataError, match="Tag_A is unreadable"):
        store.decode_value(raw, "Tag_A")


def test_alarm_round_trip():
    alarm = Alarm("oven", "Oven_Zone1_Temp_HH", 3, AlarmState.ACKNOWLEDGED, priority=12,
                  raise_time=NOW, ack_time=NOW, acknowledged_by="op1", extra={"path": "a::b"})
    assert store.decode_alarm(store.encode_alarm(alarm)) == alarm


def test_health_round_trip_and_freshness():
    health = store.SiteHealth(
        site="oven", interval=1.0, last_attempt=NOW, last_success=NOW, duration_ms=12.3,
        latency_ms=10.0, failures=0, last_error="", backoff_until=None, tag_count=5,
        alarm_count=1)
    encoded = store.encode_health(health)
    assert all(isinstance(v, str) for v in encoded.values())
    decoded = store.decode_health(encoded)
    assert decoded == health
    assert decoded.is_current(NOW + timedelta(seconds=3))
    assert not decoded.is_current(NOW + timedelta(seconds=3.1))
    assert not decoded.is_failing


def test_failing_site_is_never_current():
    health = store.decode_health({"site": "oven", "interval": "1.0", "last_success":
                                  NOW.isoformat(), "failures": "1",
                                  "last_error": "timed out after 2.0 s"})
    assert health.is_failing
    assert not health.is_current(NOW)
    assert health.last_error == "timed out after 2.0 s"


def test_readers_show_bad_entries_instead_of_failing(redis_client):
    good = TagValue("A", 1.0, Quality.GOOD)
    redis_client.hset(store.site_values("s1"), mapping={
        "A": store.encode_value(good, NOW), "B": "{broken"})
    redis_client.hset(store.site_alarms("s1"), "Pump_Fault|7", "{broken")
    values = store.read_values(redis_client, "s1")
    assert values["A"].tag == good
    assert values["B"].tag.quality is Quality.BAD
    assert "B is unreadable" in values["B"].tag.error
    alarm = store.read_alarms(redis_client, "s1")["Pump_Fault|7"]
    assert (alarm.name, alarm.instance_id) == ("Pump_Fault", 7)
    assert "unreadable" in alarm.event_text
    assert store.read_health(redis_client, "s1") is None


def test_trends_are_newest_first_and_capped(redis_client):
    key = store.site_trend("s1", "Tank_Level")
    redis_client.rpush(key, *(f"{1000 - i} {i}" for i in range(store.TREND_LENGTH)))
    pipe = redis_client.pipeline()
    store.push_trends(pipe, "s1", {"Tank_Level": "2000.000 42.5", "Motor1_Current": "2000.000 3"})
    pipe.execute()
    trend = redis_client.lrange(key, 0, -1)
    assert len(trend) == store.TREND_LENGTH
    assert trend[:2] == ["2000.000 42.5", "1000 0"]
    assert redis_client.lrange(store.site_trend("s1", "Motor1_Current"), 0, -1) == [
        "2000.000 3"]
