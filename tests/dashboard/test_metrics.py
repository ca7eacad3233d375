"""/metrics: who may read it (token, address allow-list, both, neither), and its figures,
parsed with prometheus-client's own parser, moving when a poll fails, an acknowledgement is
tried and a delivery fails."""

from __future__ import annotations

import asyncio
import re

import pytest
from django.db import OperationalError
from prometheus_client.parser import text_string_to_metric_families

from dashboard import deliveries, proxies, siteconfig
from dashboard.live import LiveHub
from dashboard.metrics import records
from dashboard.metrics.access import MetricsAccess, MetricsConfigError, Scrapers, from_environ
from dashboard.panels.fragments import Fragment
from tests.dashboard.livedata import (
    PlantTestCase,
    alarm,
    change_site,
    healthy_plant,
    now,
    put_alarm,
    put_health,
)
from tests.test_prometheus import documented_metrics
from wincc_bridge.models import AlarmState
from wincc_ingest import codec, store
from wincc_ingest.poller import Pollers

TOKEN = "metrics-token-for-tests-only"
BY_TOKEN = MetricsAccess(token=TOKEN)
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


def figures(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, from the answer's text."""
    text = response.content.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def figure(found, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


class MetricsAccessTestCase(PlantTestCase):
    def test_off_unless_a_token_or_an_address_list_is_set(self):
        with self.settings(METRICS_ACCESS=MetricsAccess()):
            response = self.client.get("/metrics", **AUTH)
        assert response.status_code == 404
        assert b"METRICS_TOKEN" in response.content

    def test_the_token_is_needed_and_must_be_the_right_one(self):
        with self.settings(METRICS_ACCESS=BY_TOKEN):
            missing = self.client.get("/metrics")
            wrong = self.client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
            basic = self.client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}")
            right = self.client.get("/metrics", **AUTH)
        for refused in (missing, wrong, basic):
            assert refused.status_code == 401
            assert refused["WWW-Authenticate"].startswith("Bearer")
            assert b"wdash_" not in refused.content
        assert right.status_code == 200
        assert right["Content-Type"].startswith("text/plain")
        assert right["Cache-Control"] == "no-store"

    def test_an_address_outside_the_list_is_refused(self):
        access = MetricsAccess(allow_from=Scrapers.parse("10.0.0.0/24"))
        with self.settings(METRICS_ACCESS=access):
            assert self.client.get("/metrics").status_code == 403  # from 127.0.0.1
            assert self.client.get("/metrics", REMOTE_ADDR="10.0.0.7").status_code == 200
            # Only a trusted proxy may name the client.
            forged = self.client.get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.7")
            assert forged.status_code == 403

    def test_behind_a_trusted_proxy_the_client_is_the_one_it_names(self):
        access = MetricsAccess(allow_from=Scrapers.parse("10.0.0.0/24"))
        behind = proxies.TrustedProxies.parse("127.0.0.1")
        with self.settings(METRICS_ACCESS=access, TRUSTED_PROXIES=behind):
            allowed = self.client.get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.7")
            outside = self.client.get("/metrics", HTTP_X_FORWARDED_FOR="192.0.2.1")
        assert (allowed.status_code, outside.status_code) == (200, 403)

    def test_with_both_set_both_are_needed(self):
        access = MetricsAccess(token=TOKEN, allow_from=Scrapers.parse("127.0.0.1"))
        with self.settings(METRICS_ACCESS=access):
            assert self.client.get("/metrics").status_code == 401
            assert self.client.get("/metrics", REMOTE_ADDR="10.0.0.7", **AUTH).status_code == 403
            assert self.client.get("/metrics", **AUTH).status_code == 200

    def test_only_reading_is_allowed(self):
        with self.settings(METRICS_ACCESS=BY_TOKEN):
            assert self.client.post("/metrics", **AUTH).status_code == 405
            assert self.client.head("/metrics", **AUTH).status_code == 200


@pytest.mark.parametrize(("environ", "sentence"), [
    ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN is 5 characters long; it needs at least 16"),
    ({"METRICS_TOKEN": "a token with spaces in it"}, "METRICS_TOKEN may hold only letters"),
    ({"METRICS_ALLOW_FROM": "10.0.0.0/8,prometheus"},
     "METRICS_ALLOW_FROM must list the Prometheus servers' addresses or networks"),
])
def test_settings_that_cannot_be_right_are_refused_with_a_sentence(environ, sentence):
    with pytest.raises(MetricsConfigError, match=sentence.replace(".", r"\.")):
        from_environ(environ)


def test_settings_that_are_right_are_read():
    access = from_environ({"METRICS_TOKEN": f" {TOKEN} ", "METRICS_ALLOW_FROM": "10.0.0.0/24"})
    assert access.token == TOKEN and "10.0.0.9" in access.allow_from
    assert not from_environ({}).enabled


class MetricsFiguresTestCase(PlantTestCase):
    def scrape(self):
        with self.settings(METRICS_ACCESS=BY_TOKEN):
            response = self.client.get("/metrics", **AUTH)
        assert response.status_code == 200
        return figures(response)

    def test_a_healthy_plant_in_figures(self):
        healthy_plant(self.redis)
        put_alarm(self.redis, alarm(name="Oven_Door_Open", priority=3,
                                    state=AlarmState.ACKNOWLEDGED))
        found = self.scrape()
        assert figure(found, "wdash_metrics_source_up", source="redis") == 1
        assert figure(found, "wdash_metrics_source_up", source="database") == 1
        for site in ("oven-unified", "line-classic"):
            assert figure(found, "wdash_site_up", site=site) == 1
            assert figure(found, "wdash_site_current", site=site) == 1
            assert 0 <= figure(found, "wdash_site_data_age_seconds", site=site) < 5
            assert figure(found, "wdash_site_tags", site=site, quality="good") == 2
            assert figure(found, "wdash_site_tags", site=site, quality="bad") == 0
        oven = {"site": "oven-unified"}
        assert figure(found, "wdash_site_alarms_active", **oven, priority="high") == 1
        assert figure(found, "wdash_site_alarms_unacknowledged", **oven, priority="high") == 1
        assert figure(found, "wdash_site_alarms_active", **oven, priority="low") == 1
        assert figure(found, "wdash_site_alarms_unacknowledged", **oven, priority="low") == 0
        assert figure(found, "wdash_site_alarms_shelved", **oven, priority="high") == 0
        # No beat or worker has written a heartbeat here.
        assert (figure(found, "wdash_beat_up"), figure(found, "wdash_workers")) == (0, 0)

    def test_a_failed_poll_moves_the_site_figures(self):
        healthy_plant(self.redis)
        before = self.scrape()
        assert figure(before, "wdash_site_polls_total", site="line-classic") == 0
        # The real poller against the site's address, where nothing listens.
        pollers = Pollers(siteconfig.get_config().sites, self.redis)
        self.addCleanup(pollers.close)
        assert pollers.poll("line-classic").status == "failed"
        after = self.scrape()
        line = {"site": "line-classic"}
        assert figure(after, "wdash_site_polls_total", **line) == 1
        assert figure(after, "wdash_site_poll_failures_total", **line) == 1
        assert figure(after, "wdash_site_poll_duration_seconds_count", **line) == 1
        assert figure(after, "wdash_site_poll_duration_seconds_bucket", **line, le="+Inf") == 1
        assert figure(after, "wdash_site_poll_duration_seconds_sum", **line) > 0
        assert figure(after, "wdash_site_up", **line) == 0
        assert figure(after, "wdash_site_current", **line) == 0
        assert figure(after, "wdash_site_consecutive_failures", **line) == 1
        assert figure(after, "wdash_site_up", site="oven-unified") == 1

    def test_a_shelved_alarm_is_counted_as_shelved(self):
        healthy_plant(self.redis)
        put_alarm(self.redis, alarm(name="Oven_Fan_Fault", state=AlarmState.SHELVED))
        found = self.scrape()
        oven = {"site": "oven-unified", "priority": "high"}
        assert figure(found, "wdash_site_alarms_shelved", **oven) == 1
        assert figure(found, "wdash_site_alarms_active", **oven) == 2

    def test_an_acknowledgement_is_counted_by_its_result(self):
        healthy_plant(self.redis)
        raised = alarm()
        assert figure(self.scrape(), "wdash_actions_total", action="acknowledge",
                      result="denied") is None
        self.client.force_login(self.viewer)
        refused = self.client.post("/alarms/ack/", {
            "site": raised.site, "name": raised.name, "instance": raised.instance_id,
            "state": raised.state.value})
        assert refused.status_code == 403
        self.client.logout()
        assert figure(self.scrape(), "wdash_actions_total", action="acknowledge",
                      result="denied") == 1

    def test_a_failed_delivery_is_counted(self):
        event = {"event_id": "7d1f6c1e-0c55-5d1e-8f3c-2f6e1c9b8a01", "trigger": "oven-hot",
                 "site": "oven-unified", "event": "entered", "condition": "above",
                 "tag": "Oven_Zone1_Temp", "value": 231.5, "quality": "good",
                 "timestamp": "2026-11-26T10:00:00Z", "coalesced": 1, "alarm": None}
        # The trigger's webhook is the discard port, where nothing listens.
        status, _ = deliveries.attempt("oven-hot", 0, event)
        assert status == "retrying"
        found = self.scrape()
        hook = {"trigger": "oven-hot", "kind": "webhook"}
        assert figure(found, "wdash_deliveries", **hook, status="retrying") == 1
        assert figure(found, "wdash_delivery_attempts_total", **hook) == 1

    def test_without_redis_the_answer_says_so_and_leaves_the_plant_out(self):
        healthy_plant(self.redis)
        with self.settings(REDIS_URL="redis://127.0.0.1:1/0"):
            found = self.scrape()
        assert figure(found, "wdash_metrics_source_up", source="redis") == 0
        assert figure(found, "wdash_metrics_source_up", source="database") == 1
        assert not [name for name, _ in found if name.startswith(("wdash_site_", "wdash_beat"))]

    def test_without_the_database_the_answer_says_so(self):
        healthy_plant(self.redis)

        def unreachable():
            raise OperationalError("could not connect to server")

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(records, "families", unreachable)
            found = self.scrape()
        assert figure(found, "wdash_metrics_source_up", source="database") == 0
        assert figure(found, "wdash_site_current", site="oven-unified") == 1

    def test_open_live_streams_and_render_time(self):
        healthy_plant(self.redis)
        before = self.scrape()
        renders = figure(before, "wdash_live_render_seconds_count") or 0

        # One loop for the hub, run only while it works, so the scrapes run in between.
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)
        hub = LiveHub()
        client = loop.run_until_complete(
            hub.connect([Fragment("tile", ("oven-unified",), ("Oven_Zone1_Temp",))]))
        hub.snapshot(client)
        during = self.scrape()
        loop.run_until_complete(hub.disconnect(client))
        after = self.scrape()
        streams = figure(before, "wdash_live_streams")
        assert figure(during, "wdash_live_streams") == streams + 1
        assert figure(after, "wdash_live_streams") == streams
        assert figure(during, "wdash_live_render_seconds_count") > renders

    def test_a_subscribed_site_s_subscription_in_figures(self):
        change_site("oven-unified", ingest="subscribe")
        healthy_plant(self.redis)
        oven = {"site": "oven-unified"}
        found = self.scrape()
        assert figure(found, "wdash_site_subscription_live", **oven) == 0
        assert figure(found, "wdash_site_subscription_since_timestamp_seconds", **oven) is None
        assert figure(found, "wdash_site_last_push_timestamp_seconds", **oven) is None
        assert figure(found, "wdash_subscribers") == 0
        # A site that polls has no subscription to report.
        assert figure(found, "wdash_site_subscription_live", site="line-classic") is None

        since, pushed = now(), now()
        assert store.claim_subscriber(self.redis, "oven-unified", "host:1:abc", 30,
                                      codec.iso(since))
        put_health(self.redis, "oven-unified", last_push=pushed, push_source="subscription")
        self.redis.set(store.subscriber_heartbeat("host"), codec.encode_heartbeat(now()), ex=60)
        found = self.scrape()
        assert figure(found, "wdash_site_subscription_live", **oven) == 1
        assert figure(found, "wdash_site_subscription_since_timestamp_seconds",
                      **oven) == pytest.approx(since.timestamp(), abs=0.001)
        assert figure(found, "wdash_site_last_push_timestamp_seconds",
                      **oven) == pytest.approx(pushed.timestamp(), abs=0.001)
        assert figure(found, "wdash_subscribers") == 1

    def test_every_figure_is_documented_and_every_documented_one_is_served(self):
        healthy_plant(self.redis)
        self.redis.set(store.BEAT_HEARTBEAT, codec.encode_heartbeat(now()), ex=60)
        with self.settings(METRICS_ACCESS=BY_TOKEN):
            text = self.client.get("/metrics", **AUTH).content.decode()
        served = {family.name for family in text_string_to_metric_families(text)
                  if family.name.startswith("wdash_")}
        documented = {re.sub(r"_total$", "", name) for name in documented_metrics()}
        assert served == documented

    def test_unreadable_poll_counters_leave_only_that_site_s_counters_out(self):
        healthy_plant(self.redis)
        self.redis.hset(store.site_polls("oven-unified"), "polls", "many")
        found = self.scrape()
        assert figure(found, "wdash_site_polls_total", site="oven-unified") is None
        assert figure(found, "wdash_site_polls_total", site="line-classic") == 0
        assert codec.read_health(self.redis, "oven-unified") is not None
