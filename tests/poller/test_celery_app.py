"""The Celery app's schedule, routing and refusal to start on a broken configuration."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dashboard import celery as celery_module
from dashboard import siteconfig
from dashboard.celery import (
    JOURNAL_TASK,
    POLL_SITES_TASK,
    POLL_TASK,
    SHELVE_EXPIRY_TASK,
    TREND_FLUSH_EVERY,
    TREND_FLUSH_TASK,
    TREND_PRUNE_TASK,
    PhasedSchedule,
    SiteScheduler,
    app,
    beat_schedule,
    route_task,
)
from wincc_ingest import config as bridge_config
from wincc_ingest import store

REPO = Path(__file__).resolve().parents[2]


def write_config(path, sites):
    path.write_text(json.dumps({"sites": sites}))
    return path


def site(site_id, **extra):
    return {"id": site_id, "dialect": "rest-v1", "url": "http://127.0.0.1:9",
            "read_user": {"username": "api_ro", "token_env": "POLLER_TEST_TOKEN"},
            "tags": [{"name": "Tank_Level"}], **extra}


@pytest.fixture
def configured(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("POLLER_TEST_TOKEN", "t")
    path = write_config(tmp_path / "config.json", [
        site("oven", poll_interval=0.5, timeout=1.5, queue="oven-queue"), site("line")])
    settings.WINCC_CONFIG = str(path)
    siteconfig.get_config.cache_clear()
    yield siteconfig.get_config()
    siteconfig.get_config.cache_clear()


def test_one_poll_per_site_that_expires_at_its_interval(configured):
    schedule = beat_schedule(configured)
    oven = schedule["poll oven"]
    assert (oven["task"], oven["schedule"].seconds, oven["args"]) == (POLL_TASK, 0.5, ("oven",))
    assert oven["options"]["expires"] == 0.5
    assert 1.5 < oven["options"]["soft_time_limit"] < oven["options"]["time_limit"]
    assert schedule["poll line"]["options"]["expires"] == 1.0
    assert schedule["persist journal"]["task"] == JOURNAL_TASK
    expiry = schedule["end shelving whose time is up"]
    assert (expiry["task"], expiry["schedule"]) == (SHELVE_EXPIRY_TASK, 5.0)
    flush = schedule["write closed minutes to the trend store"]
    assert (flush["task"], flush["options"]["expires"]) == (TREND_FLUSH_TASK, TREND_FLUSH_EVERY)
    assert schedule["prune the trend store"]["task"] == TREND_PRUNE_TASK
    assert len(schedule) == 6


def test_the_polls_of_one_interval_are_spread_across_it(tmp_path, settings, monkeypatch):
    """Four sites at 1 s start 0, 0.25, 0.5 and 0.75 s into each second; the one at 0.5 s
    on its own interval starts at 0."""
    monkeypatch.setenv("POLLER_TEST_TOKEN", "t")
    path = write_config(tmp_path / "config.json", [
        site("a"), site("b"), site("c", queue="north"), site("d"),
        site("e", poll_interval=0.5)])
    settings.WINCC_CONFIG = str(path)
    siteconfig.get_config.cache_clear()
    try:
        schedule = beat_schedule(siteconfig.get_config())
    finally:
        siteconfig.get_config.cache_clear()
    phases = {name: entry["schedule"].phase for name, entry in schedule.items()
              if entry["task"] == POLL_TASK}
    assert phases == {"poll a": 0.0, "poll b": 0.25, "poll c": 0.5, "poll d": 0.75,
                      "poll e": 0.0}


def test_a_phased_poll_is_due_once_per_interval_on_the_clock_grid():
    """Due once in each interval, at its phase; a late send does not move the next one."""
    from datetime import UTC, datetime

    now = [1000.30]  # epoch seconds
    poll = PhasedSchedule(1.0, phase=0.25,
                          nowfun=lambda: datetime.fromtimestamp(now[0], UTC), app=app)

    def at(epoch):
        return datetime.fromtimestamp(epoch, UTC)

    due, next_s = poll.is_due(at(999.26))  # last sent in the previous interval
    assert due and next_s == pytest.approx(0.95)
    assert poll.is_due(at(1000.30)) == (False, pytest.approx(0.95))
    now[0] = 1001.90  # sent 0.65 s late: still this interval's poll ...
    assert poll.is_due(at(1000.30))[0]
    due, next_s = poll.is_due(at(1001.90))
    assert not due and next_s == pytest.approx(0.35)  # ... and the next one on time
    now[0] = 1004.26  # beat paused for two intervals: one send, not three
    assert poll.is_due(at(1001.90))[0]
    assert not poll.is_due(at(1004.26))[0]
    kept = pickle.loads(pickle.dumps(PhasedSchedule(1.0, phase=0.25)))  # beat's schedule file
    assert (kept.seconds, kept.phase) == (1.0, 0.25)


def test_a_site_with_a_queue_is_routed_to_it(configured):
    assert route_task(POLL_TASK, ["oven"], {}, {}) == {"queue": "oven-queue"}
    assert route_task(POLL_TASK, ["line"], {}, {}) is None
    assert route_task(JOURNAL_TASK, [], {}, {}) is None


def test_worker_settings_suit_short_io_tasks():
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_ignore_result is True
    assert app.conf.broker_url.startswith("redis://")


@pytest.mark.parametrize(
    "command", [["worker", "--pool", "solo"], ["beat", "--schedule", "{tmp}/schedule"]])
def test_refuses_to_start_on_a_broken_configuration(tmp_path, redis_url, command):
    broken = write_config(tmp_path / "broken.json", [{"id": "oven", "dialect": "opc"}])
    env = {**os.environ, "WINCC_CONFIG": str(broken), "REDIS_URL": redis_url,
           "CELERY_BROKER_URL": redis_url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    with pytest.raises(bridge_config.ConfigError):
        bridge_config.load(broken)
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "dashboard",
         *(part.format(tmp=tmp_path) for part in command)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"Cannot start: the configuration {broken} has" in result.stderr
    assert "Traceback" not in result.stderr


def test_exactly_one_beat_runs(configured, redis_client, tmp_path, monkeypatch):
    monkeypatch.setattr(celery_module, "BEAT_LOCK_TTL", 1)
    beat = SiteScheduler(app=app, schedule_filename=str(tmp_path / "first"))
    assert set(beat.schedule) >= {"poll oven", "poll line", "persist journal"}
    beat.tick()
    assert redis_client.get(store.BEAT_HEARTBEAT)
    assert 0 < redis_client.ttl(store.BEAT_HEARTBEAT) <= store.HEARTBEAT_TTL
    assert redis_client.exists(store.BEAT_LOCK)
    beat.close()
    assert not redis_client.exists(store.BEAT_LOCK)

    redis_client.set(store.BEAT_LOCK, "a beat on another machine", ex=30)
    with pytest.raises(SystemExit, match="another celery beat is running"):
        SiteScheduler(app=app, schedule_filename=str(tmp_path / "second"))


def test_beat_renews_its_lock_and_heartbeat_twice_per_interval_not_on_every_tick(
        configured, redis_client, tmp_path):
    """One tick per poll sent: at 100 sites that is 100 ticks a second, which must not cost
    two Redis round trips each."""
    beat = SiteScheduler(app=app, schedule_filename=str(tmp_path / "beat"))
    try:
        beat.tick()
        assert redis_client.get(store.BEAT_HEARTBEAT)
        redis_client.delete(store.BEAT_HEARTBEAT)
        beat._renewed = time.monotonic()  # as if just renewed
        beat.tick()
        assert not redis_client.exists(store.BEAT_HEARTBEAT)
        # Half the heartbeat interval later (0.5 s here: the oven's interval) it is renewed.
        beat._renewed = time.monotonic() - 0.26
        beat.tick()
        assert redis_client.get(store.BEAT_HEARTBEAT)
        assert redis_client.pttl(store.BEAT_LOCK) > 0
    finally:
        beat.close()


def test_threads_of_a_threaded_pool_share_one_set_of_pollers(configured, monkeypatch):
    """Under `--pool threads` the first polls arrive together: one Pollers (one snapshot per
    site, one WinCC client per site) for the whole process, however many threads ask."""
    import threading

    from dashboard import tasks

    monkeypatch.setattr(tasks, "_redis", None)
    monkeypatch.setattr(tasks, "_pollers", None)
    start = threading.Barrier(8)
    made = []

    def first_poll():
        start.wait()
        made.append((tasks.pollers(), tasks.connection()))

    threads = [threading.Thread(target=first_poll) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(made) == 8
    assert len({id(p) for p, _ in made}) == 1
    assert len({id(c) for _, c in made}) == 1
    tasks._pollers.close()


def test_sites_per_task_groups_sites_of_one_interval_and_queue(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("POLLER_TEST_TOKEN", "t")
    path = write_config(tmp_path / "config.json", [
        site("a"), site("b"), site("c"), site("d", queue="north"), site("e", poll_interval=0.5)])
    settings.WINCC_CONFIG = str(path)
    settings.POLL_SITES_PER_TASK = 2
    siteconfig.get_config.cache_clear()
    try:
        schedule = beat_schedule(siteconfig.get_config())
        polls = {name: e for name, e in schedule.items() if e["task"] == POLL_SITES_TASK}
        assert sorted(e["args"][0] for e in polls.values()) == [["a", "b"], ["c"], ["d"], ["e"]]
        assert not any(e["task"] == POLL_TASK for e in schedule.values())
        assert polls["poll e .. e"]["schedule"].seconds == 0.5
        assert polls["poll e .. e"]["options"]["expires"] == 0.5
        assert route_task(POLL_SITES_TASK, (["d"],), {}, {}) == {"queue": "north"}
        assert route_task(POLL_SITES_TASK, (["a", "b"],), {}, {}) is None
    finally:
        siteconfig.get_config.cache_clear()


def test_poll_sites_polls_every_site_it_names(sim, redis_client, tmp_path, settings,
                                              monkeypatch):
    """One task, three sites of the simulator (three dialects), each polled and recorded."""
    from dashboard import tasks
    from tests.fixtures.simulator import write_config as write_plant

    for name, value in sim.env.items():
        monkeypatch.setenv(name, value)
    settings.WINCC_CONFIG = str(write_plant(sim, tmp_path / "plant.json"))
    settings.POLL_SITES_PER_TASK = 3
    siteconfig.get_config.cache_clear()
    monkeypatch.setattr(tasks, "_redis", None)
    monkeypatch.setattr(tasks, "_pollers", None)
    try:
        ids = [s.id for s in siteconfig.get_config().sites]
        assert tasks.poll_sites(ids) == ["ok"] * len(ids)
        for site_id in ids:
            assert redis_client.hget(store.site_health(site_id), "last_success")
            assert redis_client.hlen(store.site_values(site_id)) > 0
    finally:
        if tasks._pollers is not None:
            tasks._pollers.close()
        siteconfig.get_config.cache_clear()
