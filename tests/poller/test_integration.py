"""The polling pipeline end to end: simulator -> real Celery worker and beat -> real Redis.

Each test starts `celery -A dashboard worker` and `beat` as subprocesses on the private test
Redis and a migrated SQLite file, with a configuration of three sites on the shared simulator.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.fixtures.live_server import start_live_server
from tests.fixtures.simulator import wait_until, write_config
from wincc_bridge.client import ConnectionSettings, open_client
from wincc_bridge.models import parse_iso, utcnow
from wincc_ingest import codec, store

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SITES = ("oven-unified", "line-classic", "utilities-restv1")
INTERVAL = 0.5
# WinCC's history words -> the journal's (see wincc_ingest.journal).
HISTORY_TO_JOURNAL = {"raised": "raised", "cleared": "returned", "acknowledged": "acknowledged",
                      "removed": "cleared", "reset": "cleared"}


@pytest.fixture(scope="module")
def worker_database(simulator, tmp_path_factory):
    """A migrated SQLite file for the worker's journal consumer (never the repository's)."""
    directory = tmp_path_factory.mktemp("worker-db")
    path = directory / "journal.sqlite3"
    config = write_config(simulator, directory / "config.json")
    env = {**os.environ, **simulator.env, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": f"sqlite:///{path}", "WINCC_CONFIG": str(config)}
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=REPO,
                   env=env, check=True, timeout=120)
    return path


@pytest.fixture
def plant(sim, tmp_path, redis_url, redis_client, worker_database, celery_processes):
    """Start worker + beat on the simulator; returns a small helper around them."""
    return Plant(sim, tmp_path, redis_url, redis_client, worker_database, celery_processes)


class Plant:
    def __init__(self, sim, tmp_path, redis_url, r, database, celery_processes):
        self.sim, self.tmp_path, self.redis_url, self.r = sim, tmp_path, redis_url, r
        self.database = database
        self._start = celery_processes
        self.processes = None
        with sqlite3.connect(database) as db:
            db.execute("DELETE FROM dashboard_journalentry")

    def config(self, interval: float, queues: dict[str, str] | None, only: tuple[str, ...],
               timeout: float | None) -> Path:
        path = write_config(self.sim, self.tmp_path / "config.json", poll_interval=interval)
        data = json.loads(path.read_text())
        for site in data["sites"]:
            site["timeout"] = timeout or site["timeout"]
        if only:
            data["sites"] = [site for site in data["sites"] if site["id"] in only]
            data["dashboards"] = []
        for site in data["sites"]:
            if site["id"] in (queues or {}):
                site["queue"] = queues[site["id"]]
        path.write_text(json.dumps(data))
        return path

    def start(self, interval: float = INTERVAL, queues: dict[str, str] | None = None,
              worker_queues: tuple[str, ...] = (), only: tuple[str, ...] = (),
              timeout: float | None = None, **env: str):
        self.processes = self._start(
            self.redis_url, self.config(interval, queues, only, timeout),
            f"sqlite:///{self.database}",
            queues=worker_queues, env={**self.sim.env, "POLL_BACKOFF_CAP_SECONDS": "2",
                                       "JOURNAL_CLAIM_IDLE_SECONDS": "1", **env},
            directory=self.tmp_path / "celery")
        self.processes.wait_ready()
        return self.processes

    def health(self, site: str):
        return codec.read_health(self.r, site)

    def wait_polled(self, *sites: str, timeout: float = 20.0) -> None:
        """Until each site had a successful poll that started after now."""
        since = utcnow()

        def polled():
            healths = [self.health(site) for site in sites]
            return all(h and h.last_success and h.last_attempt > since and not h.failures
                       for h in healths)

        self.wait(polled, timeout)

    def wait(self, check, timeout: float = 20.0):
        try:
            return wait_until(check, timeout=timeout, interval=0.05)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.processes.logs()}") from None


def test_a_plant_change_reaches_redis_within_two_intervals(plant):
    interval = 1.0
    plant.start(interval=interval)
    plant.wait_polled(*SITES)
    assert plant.r.exists(store.worker_heartbeat(plant.processes.hostname))
    assert plant.r.exists(store.BEAT_HEARTBEAT)
    assert set(codec.read_values(plant.r, "oven-unified")) >= {"Oven_Zone1_Temp"}

    changes = plant.r.pubsub(ignore_subscribe_messages=True)
    changes.subscribe(store.CHANGES_CHANNEL)
    changes.get_message(timeout=1)  # the confirmation, so no change is missed
    changed_at = utcnow()
    plant.sim.set_tag("Tank_Level", 42.0)
    stored = plant.wait(lambda: (v := codec.read_values(plant.r, "utilities-restv1").get(
        "Tank_Level")) and v.tag.value == 42.0 and v)
    assert stored.read_at - changed_at <= timedelta(seconds=2 * interval)
    messages = []
    while (message := changes.get_message(timeout=0.1)) is not None:
        messages.append(json.loads(message["data"]))
    changes.close()
    assert any(m["site"] == "utilities-restv1" and "Tank_Level" in m["tags"] for m in messages)
    trend = plant.r.lrange(store.site_trend("utilities-restv1", "Tank_Level"), 0, 0)
    assert trend[0].endswith(" 42.0")


def test_a_slow_server_causes_no_overlapping_polls_and_no_backlog(plant):
    plant.sim.set_faults(latency_ms=700)  # a poll (tags + alarms) takes about 3 intervals
    plant.start(only=("utilities-restv1",))  # two pool processes, one site
    polls = set()
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        health = plant.health("utilities-restv1")
        if health and health.last_attempt and health.duration_ms:
            polls.add((health.last_attempt, health.duration_ms))
        time.sleep(0.05)
    polls = sorted(polls)
    assert len(polls) >= 3, plant.processes.logs()
    for (start, duration), (next_start, _) in itertools.pairwise(polls):
        assert next_start >= start + timedelta(milliseconds=duration), polls
    health = plant.health("utilities-restv1")
    assert health.failures == 0 and health.latency_ms >= 1400
    # Polls that waited longer than an interval were dropped, not queued behind.
    assert plant.r.llen("celery") <= 2


def test_a_stopped_server_is_failing_stale_backing_off_and_recovers(plant):
    processes = plant.start()
    plant.wait_polled(*SITES)
    worker_pid = processes.worker.pid
    plant.sim.stop_listener()
    failing = plant.wait(lambda: (h := plant.health("utilities-restv1")) and h.failures >= 3 and h)
    now = utcnow()
    assert failing.is_failing and not failing.is_current(now)
    assert failing.last_error.startswith("cannot connect to https://127.0.0.1:")
    assert "Traceback" not in failing.last_error
    assert failing.backoff_until > failing.last_attempt
    # Exponential from the interval, capped at POLL_BACKOFF_CAP_SECONDS=2.
    assert failing.backoff_until - failing.last_attempt <= timedelta(seconds=2 + 3)
    assert codec.read_values(plant.r, "utilities-restv1")["Tank_Level"].tag.value is not None
    for site in SITES:
        assert plant.wait(lambda site=site: plant.health(site).failures >= 1)

    plant.sim.start_listener()
    plant.wait(lambda: all(plant.health(s).is_current(utcnow()) for s in SITES), timeout=30)
    assert all(plant.health(s).last_error == "" for s in SITES)
    assert processes.worker.pid == worker_pid and processes.worker.alive()


def test_a_server_without_alarm_list_is_polled_for_its_tags_by_the_worker(plant):
    plant.sim.set_faults(no_alarm_list=["rest-v1"])
    plant.start(only=("utilities-restv1",))
    plant.wait_polled("utilities-restv1")
    plant.sim.set_tag("Tank_Level", 61.5)
    plant.wait(lambda: codec.read_values(plant.r, "utilities-restv1")["Tank_Level"].tag.value
               == 61.5)
    health = plant.health("utilities-restv1")
    assert (health.failures, health.last_error, health.alarm_list) == (0, "", "missing")
    # Asked once for the whole run, not on every poll, by however many worker processes.
    assert plant.sim.state("Tank_Level")["request_counts"]["rest-v1 alarm list"] == 1


def test_malformed_answers_are_recorded_and_the_poller_survives(plant):
    processes = plant.start()
    plant.wait_polled(*SITES)
    plant.sim.set_faults(malformed_rate=1.0)
    for site in SITES:
        failing = plant.wait(lambda site=site: (h := plant.health(site)) and h.failures and h)
        assert failing.last_error and "Traceback" not in failing.last_error
    plant.sim.clear_faults()
    plant.wait_polled(*SITES, timeout=30)
    assert processes.worker.alive()


def test_sites_routed_to_their_queue_are_polled_by_that_worker(plant):
    plant.start(queues={"oven-unified": "oven-line"}, worker_queues=("oven-line",))
    plant.wait_polled("oven-unified")
    time.sleep(4 * INTERVAL)
    assert plant.health("line-classic") is None
    assert plant.health("utilities-restv1") is None
    # Their polls wait, expiring, in the default queue that no worker here serves.
    assert plant.r.llen("celery") >= 1


def acknowledge(sim, name: str, instance_id: int) -> None:
    settings = ConnectionSettings(dialect="rest-v1", url=sim.url, token=sim.users.rw.token,
                                  ca_file=sim.ca_file, site="utilities-restv1")
    with open_client(settings) as client:
        (result,) = client.acknowledge([(name, instance_id)])
    assert result.ok, result.error


def journal_rows(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT site_id, alarm_name, instance_id, transition, key "
                          "FROM dashboard_journalentry").fetchall()


def test_a_killed_worker_leaves_the_journal_without_gaps_or_duplicates(plant):
    plant.sim.set_faults(latency_ms=150)  # polls are in flight most of the time
    # A short timeout makes the killed poll's lock (TTL above the time limits) expire sooner.
    processes = plant.start(timeout=0.5)
    plant.wait_polled(*SITES)
    sim, alarm = plant.sim, "Conveyor_Fault"

    def instance() -> int:
        return max(a["instance_id"] for a in sim.alarms() if a["name"] == alarm)

    def kill_and_restart() -> None:
        plant.wait(lambda: any(plant.r.exists(store.site_lock(site)) for site in SITES))
        processes.kill_worker()  # in the middle of a poll
        processes.start_worker()
        processes.wait_ready()
        # The killed poll's lock expires after its TTL; then polling resumes by itself.
        plant.wait_polled(*SITES, timeout=30)

    steps = [
        lambda: sim.raise_alarm(alarm),
        kill_and_restart,
        lambda: acknowledge(sim, alarm, instance()),
        lambda: sim.clear_alarm(alarm),                # acknowledged, then returned: gone
        lambda: sim.raise_alarm(alarm),
        lambda: sim.clear_alarm(alarm),                # returned, still unacknowledged
        kill_and_restart,
        lambda: acknowledge(sim, alarm, instance()),   # gone
        lambda: sim.raise_alarm(alarm),
        lambda: sim.clear_alarm(alarm),
        lambda: sim.raise_alarm(alarm),                # WinCC removes the old instance
        lambda: acknowledge(sim, alarm, instance()),
        lambda: sim.clear_alarm(alarm),
    ]
    for step in steps:
        step()
        plant.wait_polled(*SITES)  # every site has seen it
    sim.release_alarm(alarm)

    history = [h for h in sim.alarm_history() if h["alarm"] == alarm]
    expected = Counter((h["instance_id"], HISTORY_TO_JOURNAL[h["event"]]) for h in history)
    assert sum(expected.values()) == 12  # four instances, three steps each

    def persisted():
        rows = [r for r in journal_rows(plant.database) if r[1] == alarm]
        return len(rows) >= len(SITES) * sum(expected.values()) and rows

    rows = plant.wait(persisted, timeout=30)
    for site in SITES:
        got = Counter((instance_id, transition)
                      for site_id, _, instance_id, transition, _ in rows if site_id == site)
        assert got == expected, (site, got, expected)
    assert len({row[4] for row in rows}) == len(rows)
    pending = plant.r.xpending(store.JOURNAL_STREAM, store.JOURNAL_GROUP)["pending"]
    assert pending == 0


def test_worker_heartbeat_goes_away_with_the_worker(plant):
    processes = plant.start()
    key = store.worker_heartbeat(processes.hostname)
    stamp = parse_iso(plant.r.get(key))
    assert abs((utcnow() - stamp).total_seconds()) < 10
    assert 0 < plant.r.ttl(key) <= store.HEARTBEAT_TTL
    groups = [processes.worker.pid, processes.beat.pid]
    processes.stop()
    assert not plant.r.exists(key)
    assert not plant.r.exists(store.BEAT_LOCK)
    for group in groups:  # no pool child or other stray process is left
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)


def test_health_notices_a_frozen_worker_within_three_poll_intervals(plant, tmp_path):
    interval = 1.0
    processes = plant.start(interval=interval)
    plant.wait_polled(*SITES)
    web = start_live_server(tmp_path / "web", redis_url=plant.redis_url,
                            wincc_config=plant.tmp_path / "config.json", env=plant.sim.env)
    try:
        with httpx.Client(base_url=web.url, timeout=5) as http:
            workers = lambda: http.get("/health/").json()["workers"]  # noqa: E731
            plant.wait(lambda: workers() == 1, timeout=10)
            # The worker and its pool stop as a hung process would: no crash, no exit.
            os.killpg(processes.worker.pid, signal.SIGSTOP)
            try:
                # Three poll intervals after its last heartbeat, plus the reading's own time
                # (a minute before the heartbeat followed the poll interval).
                plant.wait(lambda: workers() == 0, timeout=3 * interval + 2)
                assert http.get("/health/").status_code == 503
            finally:
                os.killpg(processes.worker.pid, signal.SIGCONT)
            plant.wait(lambda: workers() == 1, timeout=10)
    finally:
        web.stop()


def test_a_poll_past_its_time_limit_is_stopped_and_recorded(plant):
    # Each request answers within the 2 s timeout, but login, tags and alarms together take
    # longer than the soft limit (2 x timeout + 1 s).
    plant.sim.set_faults(latency_ms=1900)
    processes = plant.start(only=("oven-unified",))
    failing = plant.wait(lambda: (h := plant.health("oven-unified")) and h.failures and h,
                         timeout=30)
    assert failing.last_error == "the poll did not finish within its time limit of 5 s"
    assert processes.worker.alive()


@pytest.mark.timeout(200)  # a minute has to close, and beat to flush it
def test_the_worker_writes_each_closed_minute_to_the_trend_store_once(plant):
    """Polls through the real worker fill the minute in Redis; beat's flush writes it to the
    database once it has closed, and removes it from Redis."""
    plant.sim.set_tag("Tank_Level", 42.0)
    plant.start(interval=INTERVAL, only=("utilities-restv1",))
    plant.wait_polled("utilities-restv1")
    first = int(time.time()) // 60 * 60  # the minute the first polls fell in
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(first))

    def stored():
        with sqlite3.connect(plant.database) as db:
            return db.execute(
                "SELECT minimum, maximum, last, count, quality FROM dashboard_tagminute "
                "WHERE site_id = 'utilities-restv1' AND tag = 'Tank_Level' AND minute = ?",
                (stamp,)).fetchall()

    rows = plant.wait(stored, timeout=first + 60 + 40 - time.time())
    ((low, high, last, count, quality),) = rows
    assert low == high == last == 42.0
    assert quality == "g"
    assert 1 <= count <= 60 / INTERVAL + 1  # the polls of the minute, at most one each
    assert not plant.r.exists(store.site_minute("utilities-restv1", first))
