"""Push ingest end to end: the real simulator's Unified subscription -> SiteSubscriber ->
the poller's own code -> real Redis, with the site's polls running beside it as beat runs
them, and the hand-over both ways (the subscription stopped, silent, and back)."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.fixtures.simulator import write_config
from tests.harness.processes import wait_until
from wincc_bridge.client import open_client
from wincc_ingest import codec, store
from wincc_ingest.config import load
from wincc_ingest.poller import Backoff, SitePoller, TimeLimits
from wincc_ingest.subscriber import SiteSubscriber

REPO = Path(__file__).resolve().parents[2]
INTERVAL = 1.0  # seconds; the bounds below scale with it (and hold on a busy machine)
SITE = "oven-unified"
TAG = "Oven_Zone1_Temp"


@pytest.fixture
def site(sim, tmp_path, monkeypatch):
    for name, value in sim.env.items():
        monkeypatch.setenv(name, value)
    config = load(write_config(sim, tmp_path / "config.json", poll_interval=INTERVAL))
    return dataclasses.replace(config.site(SITE), ingest="subscribe")


class Beat:
    """Polls the site every interval in a thread, as beat and a worker do; keeps each
    outcome's status with its time, and whether the site looked current then."""

    def __init__(self, site, redis_client) -> None:
        self.poller = SitePoller(site, redis_client, TimeLimits.for_sites([site]))
        self.redis = redis_client
        self.outcomes: list[tuple[float, str, bool]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(INTERVAL):
            status = self.poller.poll().status
            health = codec.read_health(self.redis, SITE)
            current = health is not None and health.is_current(codec.utcnow())
            self.outcomes.append((time.monotonic(), status, current))

    def statuses_since(self, since: float) -> list[str]:
        return [status for at, status, _ in self.outcomes if at >= since]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.poller.close()


class Muted:
    """A real subscription whose messages stop reaching the subscriber while `muted`: the
    server is up and sending, yet nothing is heard (a silent network path)."""

    def __init__(self, subscription, muted: threading.Event) -> None:
        self.inner, self.muted = subscription, muted

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def receive(self, timeout):
        if self.muted.is_set():
            time.sleep(timeout)
            return None
        return self.inner.receive(timeout)


class Running:
    def __init__(self, site, redis_client, muted=None) -> None:
        self.client = open_client(site.connection())
        names = [tag.name for tag in site.tags]
        muted = muted or threading.Event()

        def subscribe():
            return Muted(self.client.subscribe(names, keepalive=INTERVAL / 2), muted)

        self.stop = threading.Event()
        self.subscriber = SiteSubscriber(
            site=site, poller=SitePoller(site, redis_client, TimeLimits.for_sites([site])),
            redis=redis_client, subscribe=subscribe, stop=self.stop, backoff=Backoff(cap=1))
        self.thread = threading.Thread(target=self.subscriber.run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        self.client.close()


def owner(redis_client):
    return redis_client.get(store.site_subscriber(SITE))


def test_a_change_arrives_by_push_and_the_polls_stand_aside(sim, site, redis_client):
    beat = Beat(site, redis_client)
    running = Running(site, redis_client)
    try:
        wait_until(lambda: owner(redis_client) == running.subscriber.owner, timeout=10)
        owned_at = time.monotonic()
        sim.set_tag(TAG, 123.4)
        wait_until(lambda: codec.read_values(redis_client, SITE)[TAG].tag.value == 123.4,
                   timeout=5, interval=0.02)
        health = codec.read_health(redis_client, SITE)
        assert health.push_source == "subscription" and health.last_push is not None
        time.sleep(3 * INTERVAL)
        # Every poll since the subscription took over stood aside, and the site stayed
        # current on the subscription's confirmations alone.
        later = beat.statuses_since(owned_at + INTERVAL)
        assert later and set(later) == {"subscribed"}
        assert all(current for at, _, current in beat.outcomes if at >= owned_at)
        assert codec.read_health(redis_client, SITE).is_current(codec.utcnow())
    finally:
        running.close()
        beat.close()


def test_polling_takes_over_when_the_subscription_stops_and_stops_when_it_returns(
        site, redis_client):
    beat = Beat(site, redis_client)
    running = Running(site, redis_client)
    try:
        wait_until(lambda: owner(redis_client), timeout=10)
        since = redis_client.get(store.site_subscribed_since(SITE))
        time.sleep(INTERVAL)  # renewed meanwhile: the subscription's start stays
        assert codec.parse_iso(since) is not None
        assert redis_client.get(store.site_subscribed_since(SITE)) == since
        running.close()
        stopped = time.monotonic()
        assert owner(redis_client) is None  # handed over at once, not at the key's expiry
        assert redis_client.get(store.site_subscribed_since(SITE)) is None
        wait_until(lambda: "ok" in beat.statuses_since(stopped), timeout=5 * INTERVAL)
        first_ok = next(at for at, status, _ in beat.outcomes
                        if at >= stopped and status == "ok")
        assert first_ok - stopped <= INTERVAL + 0.5  # within one interval (and the poll)
        running = Running(site, redis_client)
        wait_until(lambda: owner(redis_client), timeout=10)
        back = time.monotonic()
        time.sleep(3 * INTERVAL)
        assert set(beat.statuses_since(back + INTERVAL)) == {"subscribed"}
        assert all(current for at, _, current in beat.outcomes if at >= stopped)
    finally:
        running.close()
        beat.close()


def test_a_silent_subscription_hands_the_site_back_to_polling(site, redis_client):
    beat = Beat(site, redis_client)
    muted = threading.Event()
    running = Running(site, redis_client, muted)
    try:
        wait_until(lambda: owner(redis_client), timeout=10)
        muted.set()
        silent = time.monotonic()
        wait_until(lambda: owner(redis_client) is None, timeout=3 * INTERVAL)
        # Heard last at most half an interval before the silence began; the key goes after
        # one interval without a sign of life, and the next poll runs.
        wait_until(lambda: "ok" in beat.statuses_since(silent), timeout=4 * INTERVAL)
        first_ok = next(at for at, status, _ in beat.outcomes if at >= silent and status == "ok")
        assert first_ok - silent <= 2 * INTERVAL + 0.5
        assert all(current for at, _, current in beat.outcomes if at >= silent)
        muted.clear()
        wait_until(lambda: owner(redis_client), timeout=10)
        back = time.monotonic()
        time.sleep(3 * INTERVAL)
        assert set(beat.statuses_since(back + INTERVAL)) == {"subscribed"}
    finally:
        running.close()
        beat.close()


@pytest.mark.process
def test_the_subscriber_process_owns_its_sites_and_hands_them_back_on_sigterm(
        sim, tmp_path, redis_url, redis_client):
    path = write_config(sim, tmp_path / "config.json", poll_interval=INTERVAL)
    data = json.loads(path.read_text(encoding="utf-8"))
    for raw in data["sites"]:
        if raw["id"] == SITE:
            raw["ingest"] = "subscribe"
    path.write_text(json.dumps(data), encoding="utf-8")
    env = {**os.environ, **sim.env, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "REDIS_URL": redis_url, "WINCC_CONFIG": str(path)}
    process = subprocess.Popen([sys.executable, "manage.py", "wincc_subscribe"], cwd=REPO,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        wait_until(lambda: owner(redis_client), timeout=30)
        assert redis_client.keys(store.subscriber_heartbeat("*"))
        sim.set_tag(TAG, 321.0)
        wait_until(lambda: codec.read_values(redis_client, SITE)[TAG].tag.value == 321.0,
                   timeout=5, interval=0.02)
        # Only the site configured to subscribe is written by it.
        assert codec.read_health(redis_client, "line-classic") is None
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
        assert process.returncode == 0, output
        assert owner(redis_client) is None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.mark.process
def test_the_subscriber_process_subscribes_to_tags_added_while_it_runs(
        sim, tmp_path, redis_url, redis_client):
    """No worker runs here: only the subscriber can bring the added tag's values."""
    path = write_config(sim, tmp_path / "config.json", poll_interval=INTERVAL)
    data = json.loads(path.read_text(encoding="utf-8"))
    oven = next(raw for raw in data["sites"] if raw["id"] == SITE)
    oven["ingest"] = "subscribe"
    path.write_text(json.dumps(data), encoding="utf-8")
    env = {**os.environ, **sim.env, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "REDIS_URL": redis_url, "WINCC_CONFIG": str(path), "CONFIG_RELOAD_SECONDS": "0.5"}
    process = subprocess.Popen([sys.executable, "manage.py", "wincc_subscribe"], cwd=REPO,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    added = "Motor3_Current"
    try:
        wait_until(lambda: owner(redis_client), timeout=30)
        assert added not in codec.read_values(redis_client, SITE)
        oven["tags"].append({"name": added, "unit": "A"})
        path.write_text(json.dumps(data), encoding="utf-8")
        wait_until(lambda: added in codec.read_values(redis_client, SITE), timeout=15)
        wait_until(lambda: owner(redis_client), timeout=15)
        sim.set_tag(added, 7.25)
        wait_until(lambda: codec.read_values(redis_client, SITE)[added].tag.value == 7.25,
                   timeout=5, interval=0.02)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
        assert process.returncode == 0, output
        assert "the configuration changed: subscribing again" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_one_owner_per_site_and_a_second_subscriber_takes_over(site, redis_client):
    first = Running(site, redis_client)
    second = None
    try:
        wait_until(lambda: owner(redis_client) == first.subscriber.owner, timeout=10)
        second = Running(site, redis_client)
        time.sleep(4 * INTERVAL)
        assert owner(redis_client) == first.subscriber.owner  # the second one stands by
        first.close()
        wait_until(lambda: owner(redis_client) == second.subscriber.owner, timeout=10)
    finally:
        first.stop.set()
        if second is not None:
            second.close()
