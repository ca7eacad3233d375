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

import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from dashboard.siteconfig import get_config, reload_config
from tests.fixtures.redis_server import free_port
from wincc_bridge import store
from wincc_bridge.models import Alarm, AlarmState

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
    """Mixin: WINCC_CONFIG points at a configuration of the three test sites, all at
    `site_url` (override `site_urls` for a real simulator); each test starts with Redis empty."""

    def site_urls(self) -> dict[str, str]:
        url = dead_url()
        return dict.fromkeys(DIALECTS, url)

    def setUp(self):
        super().setUp()
        self._dir = tempfile.mkdtemp(prefix="wdash-ack-test-")
        self.addCleanup(shutil.rmtree, self._dir, ignore_errors=True)
        for name, value in SECRETS.items():
            os.environ.setdefault(name, value)
        path = Path(self._dir) / "config.json"
        sites = [site_entry(s, url) for s, url in self.site_urls().items()]
        path.write_text(json.dumps({"sites": sites, "dashboards": [{"id": "overview"}]}))
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
        self.redis.hset(store.site_alarms(site), alarm.key, store.encode_alarm(alarm))
        return alarm

    def ack_post(self, alarm: Alarm | None = None, **fields):
        data = {}
        if alarm is not None:
            data = {"site": alarm.site, "name": alarm.name, "instance": str(alarm.instance_id),
                    "state": alarm.state.value}
        data.update(fields)
        return self.client.post("/alarms/ack/", data, HTTP_USER_AGENT="TestTablet/1.0")


_TRIGGERS = importlib.import_module("dashboard.migrations.0002_audit_append_only")


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
