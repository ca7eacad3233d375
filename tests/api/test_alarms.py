"""GET /api/v1/sites/{id}/alarms/: active alarms, shelved ones with who, why and until."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from tests.api.support import ApiTestCase
from wincc_bridge.models import AlarmState
from wincc_ingest import codec, store


class AlarmsTestCase(ApiTestCase):
    def test_active_alarms_newest_first(self):
        self.seed_health("oven-unified")
        now = datetime.now(UTC)
        self.seed_alarm(instance=1, raise_time=now - timedelta(minutes=5))
        self.seed_alarm(name="Oven_Door_Open", instance=2, state=AlarmState.ACKNOWLEDGED,
                        priority=5, raise_time=now, acknowledged_by="anna")
        response = self.get("/sites/oven-unified/alarms/")
        assert response.status_code == 200
        body = response.json()
        assert (body["alarm_list"], body["note"]) == (True, "")
        newest, older = body["alarms"]
        assert (newest["name"], newest["state"], newest["acknowledged_by"]) == (
            "Oven_Door_Open", "acknowledged", "anna")
        assert (older["name"], older["instance_id"], older["priority"], older["event_text"]) == (
            "Oven_Zone1_Temp_HH", 1, 12, "Zone 1 temperature very high")
        assert older["shelved"] is None

    def test_a_shelved_alarm_says_who_why_and_until(self):
        self.seed_health("oven-unified")
        alarm = self.seed_alarm()
        now = datetime.now(UTC)
        shelf = codec.Shelf(by="operator", reason="sensor replaced", since=now,
                            until=now + timedelta(minutes=15))
        self.redis.hset(store.site_notes("oven-unified"), alarm.key,
                        codec.encode_note(codec.AlarmNote(shelf=shelf)))
        shelved = self.get("/sites/oven-unified/alarms/").json()["alarms"][0]["shelved"]
        assert (shelved["by"], shelved["reason"], shelved["in_wincc"]) == (
            "operator", "sensor replaced", False)
        assert shelved["until"].startswith(shelf.until.isoformat()[:19])

    def test_a_shelving_whose_time_is_up_is_not_shown(self):
        alarm = self.seed_alarm()
        past = datetime.now(UTC) - timedelta(minutes=1)
        shelf = codec.Shelf(by="operator", reason="r", since=past - timedelta(hours=1),
                            until=past)
        self.redis.hset(store.site_notes("oven-unified"), alarm.key,
                        codec.encode_note(codec.AlarmNote(shelf=shelf)))
        assert self.get("/sites/oven-unified/alarms/").json()["alarms"][0]["shelved"] is None

    def test_a_site_without_an_alarm_list_says_why(self):
        self.seed_health("oven-unified")
        health = codec.decode_health(self.redis.hgetall(store.site_health("oven-unified")))
        missing = dataclasses.replace(health, alarm_list=codec.ALARMS_MISSING)
        self.redis.hset(store.site_health("oven-unified"), mapping=codec.encode_health(missing))
        body = self.get("/sites/oven-unified/alarms/").json()
        assert body["alarm_list"] is False
        assert body["note"] == "this server publishes no alarm list"
