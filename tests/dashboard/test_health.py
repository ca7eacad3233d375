from datetime import timedelta

from dashboard import siteconfig
from dashboard.celery import heartbeat_every, seen_within
from tests.dashboard.livedata import PlantTestCase, healthy_plant, now, put_health
from wincc_ingest import codec, store


class HealthTestCase(PlantTestCase):
    def heartbeats(self, age=0):
        at = codec.iso(now() - timedelta(seconds=age))
        self.redis.set(store.BEAT_HEARTBEAT, at, ex=60)
        self.redis.set(store.worker_heartbeat("w1@host"), at, ex=60)

    def test_ready_when_redis_beat_and_a_worker_are_seen(self):
        healthy_plant(self.redis)
        self.heartbeats()
        response = self.client.get("/health/")  # no sign-in needed
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok" and body["redis"] is True and body["workers"] == 1
        assert body["sites"]["oven-unified"]["current"] is True

    def test_degraded_but_ready_when_a_site_fails(self):
        healthy_plant(self.redis)
        put_health(self.redis, "line-classic", ok=False, error="password refused")
        self.heartbeats()
        response = self.client.get("/health/")
        assert response.status_code == 200
        assert response.json()["status"] == "degraded"
        assert "password" not in response.content.decode()  # no errors or secrets leak

    def test_not_ready_without_workers_or_beat_for_60_s(self):
        healthy_plant(self.redis)
        self.heartbeats(age=90)
        response = self.client.get("/health/")
        assert response.status_code == 503
        assert response.json()["status"] == "down"

    def test_a_worker_silent_for_three_poll_intervals_is_not_counted(self):
        """As fast as its sites go not current: a frozen worker is not counted for a minute."""
        config = siteconfig.get_config()
        interval = config.shortest_poll_interval()
        assert seen_within(config) == 3 * interval
        assert heartbeat_every(config) <= interval
        healthy_plant(self.redis)
        self.heartbeats(age=2 * interval)
        assert self.client.get("/health/").json()["workers"] == 1
        self.heartbeats(age=3 * interval + 1)
        response = self.client.get("/health/")
        assert response.status_code == 503
        assert response.json()["workers"] == 0 and response.json()["status"] == "down"

    def test_not_ready_when_redis_is_unreachable(self):
        with self.settings(REDIS_URL="redis://127.0.0.1:1/0"):
            response = self.client.get("/health/")
        assert response.status_code == 503
        assert response.json()["redis"] is False
