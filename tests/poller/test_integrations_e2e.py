"""Integrations end to end: the simulator -> a real Celery worker and beat -> a real webhook
receiver on 127.0.0.1 and a private Mosquitto broker, with the deliveries recorded in the
worker's database.

An alarm raised on the simulator arrives once, signed, at the receiver and once on MQTT; a
receiver answering 500 sees the same event again (same idempotency key) until it answers 200;
a chattering tag is coalesced to at most one delivery per interval, its last value included.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.fixtures.simulator import wait_until, write_config
from tests.harness.receiver import start_receiver
from wincc_ingest import codec

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SIGNING = "webhook-signing-secret-for-tests"
TOKEN = "erp-token-for-tests"
BODY = {"event": "{event}", "site": "{site}", "alarm": "{alarm.name}",
        "priority": "{alarm.priority}", "at": "{timestamp}", "id": "{event_id}",
        "text": "{alarm.name} {event} on {site}"}


@pytest.fixture
def receiver():
    with start_receiver() as server:
        yield server


@pytest.fixture
def database(sim, tmp_path):
    path = tmp_path / "worker.sqlite3"
    env = {**os.environ, **sim.env, "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": f"sqlite:///{path}",
           "WINCC_CONFIG": str(write_config(sim, tmp_path / "plain.json"))}
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=REPO,
                   env=env, check=True, timeout=120)
    return path


def deliveries(database: Path, trigger: str) -> list[dict]:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM dashboard_delivery WHERE trigger_id = ? ORDER BY id",
                          (trigger,)).fetchall()
    return [dict(row) for row in rows]


def test_alarms_and_a_chattering_tag_reach_a_webhook_and_mqtt(
        sim, tmp_path, redis_url, redis_client, celery_processes, mosquitto, receiver, database):
    alarm = next(d["name"] for d in sim.alarm_definitions() if d["ack_required"])
    topic = f"wdash-test/{uuid.uuid4().hex}"
    config = write_config(sim, tmp_path / "config.json", poll_interval=0.5)
    data = json.loads(config.read_text())
    data["triggers"] = [
        {"id": "erp-alarms",
         "when": {"alarm": ["raised"], "sites": ["line-classic"], "name": alarm},
         "then": [
             {"webhook": {"url": receiver.url, "body": BODY, "signature_env": "ERP_SIGNING",
                          "headers": {"Authorization": {"env": "ERP_TOKEN",
                                                        "prefix": "Bearer "}},
                          "timeout": 5}},
             {"mqtt": {"broker": mosquitto.url, "topic": topic + "/{site}/alarm/{alarm.name}",
                       "qos": 1, "timeout": 5}},
         ]},
        {"id": "setpoint-changes",
         "when": {"site": "line-classic", "tag": "Conveyor_Speed_Setpoint",
                  "condition": "change", "deadband": 0.5},
         "min_interval": 3,
         "then": [{"mqtt": {"broker": mosquitto.url, "topic": topic + "/{trigger}",
                            "timeout": 5}}]},
    ]
    config.write_text(json.dumps(data))
    env = {**sim.env, "ERP_SIGNING": SIGNING, "ERP_TOKEN": TOKEN,
           # Backoff in seconds, not minutes: the shape is the product's, the scale the test's.
           "DELIVERY_BACKOFF_SECONDS": "0.5", "DELIVERY_BACKOFF_MAX_SECONDS": "1",
           "DELIVERY_MAX_ATTEMPTS": "20"}
    sim.set_tag("Conveyor_Speed_Setpoint", 10.0)
    processes = celery_processes(redis_url, config, f"sqlite:///{database}", env=env,
                                 directory=tmp_path / "celery")
    processes.wait_ready()

    def wait(check, timeout=30.0):
        try:
            return wait_until(check, timeout=timeout, interval=0.1)
        except AssertionError as exc:
            rows = deliveries(database, "erp-alarms") + deliveries(database, "setpoint-changes")
            topics = [m.topic for m in messages.all()]
            raise AssertionError(f"{exc}\n{topics}\n{rows}\n{processes.logs()}") from None

    wait(lambda: (h := codec.read_health(redis_client, "line-classic")) and h.last_success)
    with mosquitto.subscribe(f"{topic}/#") as messages:
        # 1. One alarm: one signed webhook and one MQTT message with the documented body.
        sim.raise_alarm(alarm)
        [request] = wait(lambda: receiver.delivered() or None)
        body = json.loads(request.body)
        assert body["event"] == "raised" and body["site"] == "line-classic"
        assert body["alarm"] == alarm and isinstance(body["priority"], int)
        assert body["text"] == f"{alarm} raised on line-classic"
        expected = hmac.new(SIGNING.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-signature-256"] == f"sha256={expected}"
        assert request.headers["idempotency-key"] == body["id"]
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        alarm_topic = f"{topic}/line-classic/alarm/{alarm}"
        [message] = wait(lambda: [m for m in messages.all() if m.topic == alarm_topic] or None)
        published = json.loads(message.payload)
        assert (published["event_id"], published["event"]) == (body["id"], "raised")
        assert published["alarm"]["name"] == alarm
        assert {row["status"] for row in deliveries(database, "erp-alarms")} == {"delivered"}

        # 2. The receiver fails for a while: the same event comes again until it is taken.
        receiver.status = 500
        sim.clear_alarm(alarm)  # returns (still unacknowledged); the poller sees it
        wait(lambda: all(a.state.value != "unacknowledged" for a in codec.read_alarms(
            redis_client, "line-classic").values() if a.name == alarm))
        sim.raise_alarm(alarm)
        wait(lambda: len(receiver.answered(500)) >= 3)
        [row] = [r for r in deliveries(database, "erp-alarms")
                 if r["action_index"] == 0 and r["status"] != "delivered"]
        assert row["status"] == "retrying"
        assert row["last_error"] == f"{receiver.url} answered HTTP 500 (Internal Server Error)"
        receiver.status = 200
        wait(lambda: len(receiver.delivered()) == 2)
        failed = receiver.answered(500)
        second = receiver.delivered()[1]
        assert {r.headers["idempotency-key"] for r in failed} == {
            second.headers["idempotency-key"]}
        done = wait(lambda: [r for r in deliveries(database, "erp-alarms")
                             if r["id"] == row["id"] and r["status"] == "delivered"] or None)
        assert done[0]["attempts"] == len(failed) + 1

        # 3. A chattering setpoint: at most one message per 3 s, and the last value arrives.
        values = [20.0, 30.0] * 12
        for value in values:
            sim.set_tag("Conveyor_Speed_Setpoint", value)
            wait_until(lambda v=value: (stored := codec.read_values(
                redis_client, "line-classic").get("Conveyor_Speed_Setpoint"))
                and stored.tag.value == v, timeout=10, interval=0.05)
        sim.set_tag("Conveyor_Speed_Setpoint", 44.0)
        chatter_topic = f"{topic}/setpoint-changes"

        def chatter():
            return [json.loads(m.payload) for m in messages.all() if m.topic == chatter_topic]

        wait(lambda: chatter() and chatter()[-1]["value"] == 44.0)
        sent = chatter()
        assert sum(event["coalesced"] for event in sent) == len(values) + 1
        assert len(sent) < len(values) / 2
        assert any(event["coalesced"] > 1 for event in sent)
