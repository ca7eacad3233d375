"""Helpers for the acknowledge and audit tests: a configuration of the three test sites,
alarms seeded into Redis as the poller writes them, and cleaning the append-only audit table
for tests that commit (live server, threads)."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from unittest import mock

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from dashboard.siteconfig import get_config, reload_config
from tests.fixtures.simulator import write_config
from tests.harness.processes import free_port
from wincc_bridge.models import Alarm, AlarmState
from wincc_ingest import codec, store
from wincc_ingest.poller import Pollers

SECRETS = {
    "WDASH_TEST_RO_PASSWORD": "ro-test-only",
    "WDASH_TEST_RW_PASSWORD": "rw-test-only",
    "WDASH_TEST_RO_TOKEN": "ro-token-test-only",
    "WDASH_TEST_RW_TOKEN": "rw-token-test-only",
}
DIALECTS = {"oven-unified": "unified", "line-classic": "classic", "utilities-restv1": "rest-v1"}
CLASSIC_ACK_TAGS = {"Conveyor_Fault": {"tag": "Ack_Conveyor_Fault", "value": 1}}


def dead_url() -> str:
    """An address where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


def site_entry(site_id: str, url: str) -> dict:
    secret = "token_env" if DIALECTS[site_id] == "rest-v1" else "password_env"
    kind = "TOKEN" if secret == "token_env" else "PASSWORD"
    entry = {
        "id": site_id,
        "name": f"Test {site_id}",
        "dialect": DIALECTS[site_id],
        "url": url,
        "timeout": 1.0,
        "read_user": {"username": "dashboard-reader", secret: f"WDASH_TEST_RO_{kind}"},
        "write_user": {"username": "dashboard-operator", secret: f"WDASH_TEST_RW_{kind}"},
    }
    if site_id == "line-classic":
        entry["ack_tags"] = CLASSIC_ACK_TAGS
        entry["alarm_filter"] = "ActiveAlarms"
    return entry


class SitesConfigured:
    """Mixin: WINCC_CONFIG points at a configuration of the three test sites where nothing
    listens (SimulatorSites: at the real simulator); each test starts with Redis empty."""

    @pytest.fixture(autouse=True)
    def _private_redis(self, redis_server):
        """setUp reads settings.REDIS_URL: the session's Redis must run by then."""

    def write_site_config(self, path: Path) -> None:
        for name, value in SECRETS.items():
            os.environ.setdefault(name, value)
        url = dead_url()
        sites = [site_entry(site, url) for site in DIALECTS]
        path.write_text(json.dumps({"sites": sites, "dashboards": [{"id": "overview"}]}))

    def setUp(self):
        super().setUp()
        self._dir = tempfile.mkdtemp(prefix="wdash-ack-test-")
        self.addCleanup(shutil.rmtree, self._dir, ignore_errors=True)
        path = Path(self._dir) / "config.json"
        self.write_site_config(path)
        overrider = override_settings(WINCC_CONFIG=str(path))
        overrider.enable()
        self.addCleanup(overrider.disable)
        self.addCleanup(get_config.cache_clear)
        reload_config()
        self.redis = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
        self.addCleanup(self.redis.close)
        self.redis.flushall()

    def seed_alarm(self, site: str = "oven-unified", name: str = "Oven_Zone1_Temp_HH",
                   instance: int = 1, state: AlarmState = AlarmState.UNACKNOWLEDGED,
                   **fields) -> Alarm:
        alarm = Alarm(site=site, name=name, instance_id=instance, state=state,
                      priority=fields.pop("priority", 12),
                      event_text=fields.pop("event_text", "Zone 1 temperature very high"),
                      can_acknowledge=fields.pop("can_acknowledge",
                                                 state.needs_acknowledgement), **fields)
        self.redis.hset(store.site_alarms(site), alarm.key, codec.encode_alarm(alarm))
        return alarm

    def ack_post(self, alarm: Alarm | None = None, **fields):
        data = {}
        if alarm is not None:
            data = {"site": alarm.site, "name": alarm.name, "instance": str(alarm.instance_id),
                    "state": alarm.state.value}
        data.update(fields)
        return self.client.post("/alarms/ack/", data, HTTP_USER_AGENT="TestTablet/1.0")


_TRIGGERS = importlib.import_module("dashboard.migrations.0009_audit_person_refusal_summaries")


def clear_audit_log() -> None:
    """Empty the audit table for a test that committed rows, so the test runner's flush (a
    DELETE that the triggers refuse) finds nothing: triggers off, delete, triggers back on."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for sql in _TRIGGERS.UNINSTALL[vendor]:
            cursor.execute(sql)
        cursor.execute(f"DELETE FROM {_TRIGGERS.TABLE}")
        for sql in _TRIGGERS.INSTALL[vendor]:
            cursor.execute(sql)


class SimulatorSites(SitesConfigured):
    """Mixin: the three sites on the shared simulator (reset per test), its secrets in the
    environment; `poll(site)` runs the real poller once so Redis holds what WinCC shows."""

    @pytest.fixture(autouse=True)
    def _simulator(self, sim):
        self.sim = sim

    def write_site_config(self, path: Path) -> None:
        patcher = mock.patch.dict(os.environ, self.sim.env)
        patcher.start()
        self.addCleanup(patcher.stop)
        write_config(self.sim, path)

    def poll(self, site: str) -> None:
        pollers = Pollers(get_config().sites, self.redis)
        try:
            outcome = pollers.poll(site)
        finally:
            pollers.close()
        assert outcome.status == "ok", outcome

    def raise_and_poll(self, site: str, name: str) -> Alarm:
        """Raise `name` in the simulated plant and return it as the dashboard stores it."""
        instance = self.sim.raise_alarm(name)[-1]["instance_id"]
        self.poll(site)
        raw = self.redis.hget(store.site_alarms(site), f"{name}|{instance}")
        assert raw is not None, f"{name} #{instance} not stored for {site}"
        return codec.decode_alarm(raw)

    def sim_state(self, name: str, instance: int) -> str:
        """The simulator's own state word for the alarm instance, or "" when it left."""
        for alarm in self.sim.alarms():
            if (alarm["name"], alarm["instance_id"]) == (name, instance):
                return alarm["state"]
        return ""

    def wincc_writes(self) -> list[dict]:
        """Every write, acknowledgement or reset that reached the simulator."""
        return self.sim.requests_log()
