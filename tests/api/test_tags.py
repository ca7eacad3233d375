"""GET /api/v1/sites/{id}/tags/: current values with quality, unit and age."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.api.support import ApiTestCase
from wincc_bridge.models import Quality


class TagsTestCase(ApiTestCase):
    def write_site_config(self, path):
        super().write_site_config(path)
        config = json.loads(path.read_text())
        config["sites"][0]["tags"] = [
            {"name": "Oven_Zone1_Temp", "label": "Zone 1 temperature", "unit": "°C"}]
        path.write_text(json.dumps(config))

    def test_values_with_quality_unit_and_age(self):
        self.seed_health("oven-unified", age=1.0)
        changed = datetime.now(UTC) - timedelta(seconds=30)
        self.seed_value("oven-unified", "Oven_Zone1_Temp", 181.5, read_at=changed)
        self.seed_value("oven-unified", "Oven_Door_Open", True, quality=Quality.UNCERTAIN)
        response = self.get("/sites/oven-unified/tags/")
        assert response.status_code == 200
        body = response.json()
        assert body["site"] == "oven-unified"
        assert body["health"]["status"] == "current"
        door, temp = body["tags"]
        assert (temp["name"], temp["label"], temp["unit"], temp["value"], temp["quality"]) == (
            "Oven_Zone1_Temp", "Zone 1 temperature", "°C", 181.5, "good")
        # Unchanged for 30 s, yet confirmed by the poll a second ago.
        assert 1.0 <= temp["age_seconds"] < 5
        assert temp["changed_at"].startswith(changed.isoformat()[:19])
        assert (door["value"], door["quality"], door["unit"]) == (True, "uncertain", "")

    def test_a_failing_sites_values_say_how_old_they_are(self):
        self.seed_health("oven-unified", age=120, failures=3, error="timed out")
        self.seed_value("oven-unified", "Oven_Zone1_Temp", 181.5,
                        read_at=datetime.now(UTC) - timedelta(seconds=200))
        body = self.get("/sites/oven-unified/tags/").json()
        assert body["health"]["stale"] is True and body["health"]["status"] == "failing"
        assert body["tags"][0]["age_seconds"] >= 120

    def test_a_value_json_cannot_carry_is_null_with_the_reason(self):
        self.seed_health("oven-unified")
        self.seed_value("oven-unified", "Oven_Zone1_Temp", float("nan"))
        tag = self.get("/sites/oven-unified/tags/").json()["tags"][0]
        assert tag["value"] is None
        assert "JSON cannot carry" in tag["error"]

    def test_a_site_never_polled_has_no_tags_and_says_so(self):
        body = self.get("/sites/line-classic/tags/").json()
        assert body["tags"] == []
        assert body["health"]["status"] == "never"
