from datetime import timedelta

from dashboard import siteconfig
from dashboard.celery import heartbeat_every, seen_within
from tests.dashboard.livedata import (
    PlantTestCase,
    change_site,
    healthy_plant,
    now,
    put_health,
)
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


class SubscriptionHealthTestCase(PlantTestCase):
    """A site configured "ingest": "subscribe": its subscription's state beside its health,
    from the key its subscriber holds only while live (wincc_ingest.subscriber)."""

    heartbeats = HealthTestCase.heartbeats

    def setUp(self):
        super().setUp()
        change_site("oven-unified", ingest="subscribe")
        healthy_plant(self.redis)
        self.heartbeats()

    def test_a_subscribed_site_without_a_live_subscription_is_degraded(self):
        response = self.client.get("/health/")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded" and body["subscribers"] == 0
        oven = body["sites"]["oven-unified"]
        assert oven["current"] is True  # polled meanwhile
        assert oven["subscription"] == {"live": False, "since": None, "last_push": None}
        assert "subscription" not in body["sites"]["line-classic"]

    def test_a_live_subscription_is_ok_with_since_when_and_the_last_push(self):
        since, pushed = now() - timedelta(minutes=5), now() - timedelta(seconds=0.3)
        assert store.claim_subscriber(self.redis, "oven-unified", "host:1:abc", 30,
                                      codec.iso(since))
        put_health(self.redis, "oven-unified", last_push=pushed, push_source="subscription")
        self.redis.set(store.subscriber_heartbeat("host"), codec.encode_heartbeat(now()), ex=60)
        body = self.client.get("/health/").json()
        assert body["status"] == "ok" and body["subscribers"] == 1
        assert body["sites"]["oven-unified"]["subscription"] == {
            "live": True, "since": codec.iso(since), "last_push": codec.iso(pushed)}
        # Given up (WinCC went silent): degraded again, and "since" goes with it.
        store.release_subscriber(self.redis, "oven-unified", "host:1:abc")
        body = self.client.get("/health/").json()
        assert body["status"] == "degraded"
        assert body["sites"]["oven-unified"]["subscription"]["since"] is None

    def test_a_subscriber_heartbeat_older_than_three_beats_is_not_counted(self):
        self.redis.set(store.subscriber_heartbeat("host"),
                       codec.iso(now() - timedelta(seconds=31)), ex=60)
        assert self.client.get("/health/").json()["subscribers"] == 0

    def test_the_subscription_s_owner_leaks_nowhere(self):
        store.claim_subscriber(self.redis, "oven-unified", "host:1:abc", 30, codec.iso(now()))
        assert "host:1:abc" not in self.client.get("/health/").content.decode()
