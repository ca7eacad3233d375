"""A small plant for the page, stream and hub tests: a configuration file and the Redis
data the poller would write, following wincc_ingest.store's contract."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from dashboard import siteconfig
from tests.dashboard.base import BaseTestCase
from wincc_bridge.models import Alarm, AlarmState, Quality, TagValue
from wincc_ingest import codec, store

SECRET_ENV = "WDASH_TEST_SITE_SECRET"
ORIGINAL_CONFIG = settings.WINCC_CONFIG

SITES = [
    {"id": "oven-unified", "name": "Curing oven", "dialect": "unified",
     "tags": [
         {"name": "Oven_Zone1_Temp", "label": "Zone 1 temperature", "unit": "°C",
          "limits": {"ll": 140, "l": 160, "h": 200, "hh": 220}, "range": {"min": 0, "max": 400}},
         {"name": "Oven_Zone2_Temp", "label": "Zone 2 temperature", "unit": "°C"},
     ]},
    {"id": "line-classic", "name": "Assembly line", "dialect": "classic",
     "alarm_filter": "ActiveAlarms", "ack_tags": {"Conveyor_Fault": {"tag": "Ack_Conveyor_Fault"}},
     "tags": [{"name": "Conveyor_Speed", "label": "Conveyor speed", "unit": "m/min"},
              {"name": "Conveyor_Running", "label": "Conveyor running"}]},
]
DASHBOARDS = [
    {"id": "overview", "title": "Plant overview", "panels": [
        {"kind": "site_health", "title": "Sites", "sites": ["oven-unified", "line-classic"]},
        {"kind": "tiles", "title": "Oven", "site": "oven-unified",
         "tags": ["Oven_Zone1_Temp", "Oven_Zone2_Temp"]},
        {"kind": "tiles", "title": "Line", "site": "line-classic", "tags": ["Conveyor_Speed"]},
        {"kind": "trend", "title": "Oven trend", "site": "oven-unified",
         "tags": ["Oven_Zone1_Temp"], "minutes": 10},
        {"kind": "alarms", "title": "Alarms"},
    ]},
    {"id": "line", "title": "Assembly line", "panels": [
        {"kind": "tiles", "title": "Line", "site": "line-classic", "tags": ["Conveyor_Speed"]},
        {"kind": "alarms", "title": "Alarms", "site": "line-classic"},
    ]},
]

# Integration triggers (docs/integrations.md); the page tests never run a poller, so nothing
# is sent: the addresses are the discard port.
TRIGGER_SECRET_ENV = "WDASH_TEST_TRIGGER_SECRET"
TRIGGERS = [
    {"id": "oven-hot", "description": "Zone 1 too hot",
     "when": {"site": "oven-unified", "tag": "Oven_Zone1_Temp", "condition": "above",
              "value": "h", "hysteresis": 2},
     "min_interval": 30,
     "then": [{"webhook": {"url": "http://127.0.0.1:9/erp/hook",
                           "headers": {"Authorization": {"env": TRIGGER_SECRET_ENV,
                                                         "prefix": "Bearer "},
                                       "X-Plant": "north-plant-header"},
                           "signature_env": TRIGGER_SECRET_ENV}},
              {"mqtt": {"broker": "mqtt://127.0.0.1:9", "topic": "plant/{site}/{tag}"}}]},
    {"id": "line-alarms", "when": {"alarm": ["raised"], "sites": ["line-classic"],
                                   "priority": {"min": 5}},
     "then": [{"webhook": {"url_env": TRIGGER_SECRET_ENV}}]},
]


def write_config(directory: Path) -> Path:
    os.environ[SECRET_ENV] = "not-a-real-secret"
    os.environ[TRIGGER_SECRET_ENV] = "http://127.0.0.1:9/trigger-secret-value"
    sites = []
    for site in SITES:
        user = {"username": "reader", "password_env": SECRET_ENV}
        tls = {"verify": False, "insecure": True}
        sites.append({**site, "url": "https://127.0.0.1:1", "tls": tls, "poll_interval": 1.0,
                      "read_user": user, "write_user": user})
    path = directory / "config.json"
    path.write_text(json.dumps({"sites": sites, "dashboards": DASHBOARDS, "triggers": TRIGGERS}),
                    encoding="utf-8")
    settings.WINCC_CONFIG = str(path)
    siteconfig.reload_config()
    return path


def change_site(site_id: str, **changes) -> None:
    """Change one site's entry in the written configuration and load it again."""
    path = Path(settings.WINCC_CONFIG)
    data = json.loads(path.read_text(encoding="utf-8"))
    for site in data["sites"]:
        if site["id"] == site_id:
            site.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")
    siteconfig.reload_config()


def now() -> datetime:
    return datetime.now(UTC)


def put_value(r, site, tag, value, *, quality=Quality.GOOD, read_at=None, error=None):
    read_at = read_at or now()
    tv = TagValue(tag, value, quality, timestamp=read_at, error=error)
    r.hset(store.site_values(site), tag, codec.encode_value(tv, read_at))
    r.lpush(store.site_trend(site, tag), f"{read_at.timestamp()} {value}")


def put_health(r, site, *, ok=True, age=0.0, error="", interval=1.0, **fields):
    """`fields`: any other codec.SiteHealth field (reason, alarm_list, ...)."""
    at = now() - timedelta(seconds=age)
    health = codec.SiteHealth(
        site=site, interval=interval, last_attempt=at,
        last_success=at if ok else at - timedelta(seconds=5),
        duration_ms=12.0, latency_ms=8.0, failures=0 if ok else 3, last_error=error,
        backoff_until=None, tag_count=2, alarm_count=1, **fields,
    )
    r.delete(store.site_health(site))
    r.hset(store.site_health(site), mapping=codec.encode_health(health))


def alarm(site="oven-unified", name="Oven_Zone1_Temp_HH", instance=1,
          state=AlarmState.UNACKNOWLEDGED, priority=12, **extra) -> Alarm:
    fields = {"alarm_class": "Alarm", "event_text": f"{name} text",
              "info_text": "Check the burner.", "raise_time": now() - timedelta(minutes=1),
              "can_acknowledge": state.needs_acknowledgement, **extra}
    return Alarm(site=site, name=name, instance_id=instance, state=state, priority=priority,
                 **fields)


# The words of the test plant's alarm texts and people's names: plant data, read the same in
# German (tests/dashboard/german.py's english_left takes them as allowed).
SHOWN_DATA = frozenset({"Oven", "Zone", "Temp", "text", "Check", "the", "burner", "viewer",
                        "admin", "operator"})


def put_alarm(r, a: Alarm) -> None:
    r.hset(store.site_alarms(a.site), a.key, codec.encode_alarm(a))


def publish(r, site, tags=(), alarms=False, health=False) -> None:
    r.publish(store.CHANGES_CHANNEL,
              json.dumps({"site": site, "tags": list(tags), "alarms": alarms, "health": health}))


def healthy_plant(r) -> None:
    """Both sites current, a few values, one unacknowledged HIGH alarm on the oven."""
    for site in ("oven-unified", "line-classic"):
        put_health(r, site)
    put_value(r, "oven-unified", "Oven_Zone1_Temp", 182.5)
    put_value(r, "oven-unified", "Oven_Zone2_Temp", 201.0)
    put_value(r, "line-classic", "Conveyor_Speed", 12.0)
    put_value(r, "line-classic", "Conveyor_Running", True)
    put_alarm(r, alarm())


def wait_for(predicate, timeout=5.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


class PlantTestCase(BaseTestCase):
    """BaseTestCase with the small plant's configuration and a clean private Redis."""

    @pytest.fixture(autouse=True)
    def _plant(self, redis_client, tmp_path):
        self.redis = redis_client
        write_config(tmp_path)
        yield
        settings.WINCC_CONFIG = ORIGINAL_CONFIG
        siteconfig.get_config.cache_clear()

    def get_as(self, user, url, **kwargs):
        self.client.force_login(user)
        return self.client.get(url, **kwargs)


async def first_stream_chunk(client, url: str, **headers) -> bytes:
    """The first chunk a live stream sends (its snapshot), the stream closed after it."""
    response = await client.get(url, headers=headers)
    assert response.status_code == 200
    chunks = aiter(response.streaming_content)
    try:
        return await anext(chunks)
    finally:
        await chunks.aclose()
