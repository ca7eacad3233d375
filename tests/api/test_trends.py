"""GET /api/v1/sites/{id}/trend/?tag=: the recent window the poller keeps, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.api.support import ApiTestCase
from wincc_bridge.models import Quality, TagValue
from wincc_ingest import codec, store


class TrendsTestCase(ApiTestCase):
    def push(self, tag: str, values: list, start: float) -> None:
        pipe = self.redis.pipeline()
        for i, value in enumerate(values):
            sample = codec.encode_trend_sample(TagValue(tag, value, Quality.GOOD), start + i)
            store.push_trends(pipe, "oven-unified", {tag: sample})
        pipe.execute()

    def test_samples_oldest_first(self):
        self.seed_health("oven-unified")
        self.seed_value("oven-unified", "Oven_Zone1_Temp", 3.0)
        start = datetime.now(UTC).timestamp() - 10
        self.push("Oven_Zone1_Temp", [1.0, 2.5, 3.0], start)
        response = self.get("/sites/oven-unified/trend/", tag="Oven_Zone1_Temp")
        assert response.status_code == 200
        body = response.json()
        assert (body["window"], body["max_samples"]) == ("recent", 600)
        assert [s["value"] for s in body["samples"]] == [1.0, 2.5, 3.0]
        first = datetime.fromisoformat(body["samples"][0]["at"])
        assert abs(first.timestamp() - start) < 0.01

    def test_the_window_holds_at_most_600_samples(self):
        self.seed_value("oven-unified", "Oven_Zone1_Temp", 0.0)
        self.push("Oven_Zone1_Temp", list(range(650)), 1_700_000_000.0)
        samples = self.get("/sites/oven-unified/trend/", tag="Oven_Zone1_Temp").json()["samples"]
        assert len(samples) == 600
        assert (samples[0]["value"], samples[-1]["value"]) == (50.0, 649.0)

    def test_an_unknown_tag_is_404(self):
        response = self.get("/sites/oven-unified/trend/", tag="Nothing_Here")
        assert response.status_code == 404
        assert response.json()["detail"] == "The site 'oven-unified' has no tag 'Nothing_Here'."

    def test_the_tag_is_required(self):
        response = self.get("/sites/oven-unified/trend/")
        assert response.status_code == 422
        assert "'tag'" in response.json()["detail"]
